using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace LlmAspire.Inference.Engine.Kernels;

/// <summary>
/// The few entries of ONNX Runtime's C API (<c>OrtApi</c>) that a custom operator needs and the managed package does
/// not expose: registering an operator domain on session options, and reading a kernel's attributes, inputs and outputs.
/// <c>OrtApi</c> is a table of function pointers that only ever grows at its end, so an entry's index is fixed by the
/// version that added it; the indices below are those of <c>onnxruntime_c_api.h</c> (1.17 and later).
/// </summary>
internal static unsafe partial class OrtApiTable
{
    /// <summary>The API version asked for: 1.17 added <c>KernelContext_ParallelFor</c>, the newest entry used here.</summary>
    private const uint ApiVersion = 17;

    private const int CreateStatusIndex = 0;
    private const int GetErrorMessageIndex = 2;
    private const int CreateCustomOpDomainIndex = 26;
    private const int CustomOpDomainAddIndex = 27;
    private const int AddCustomOpDomainIndex = 28;
    private const int GetTensorMutableDataIndex = 51;
    private const int GetDimensionsCountIndex = 61;
    private const int GetDimensionsIndex = 62;
    private const int GetTensorTypeAndShapeIndex = 65;
    private const int KernelInfoGetAttributeFloatIndex = 85;
    private const int KernelInfoGetAttributeInt64Index = 86;
    private const int KernelContextGetInputCountIndex = 88;
    private const int KernelContextGetOutputCountIndex = 89;
    private const int KernelContextGetInputIndex = 90;
    private const int KernelContextGetOutputIndex = 91;
    private const int ReleaseStatusIndex = 93;
    private const int GetTensorElementTypeIndex = 60;
    private const int ReleaseTensorTypeAndShapeInfoIndex = 99;
    private const int KernelInfoGetConstantInputTensorIndex = 249;
    private const int KernelContextParallelForIndex = 274;
    private const int AddExternalInitializersIndex = 210;
    private const int CreateTensorWithDataAsOrtValueIndex = 49;
    private const int CreateCpuMemoryInfoIndex = 69;
    private const int ReleaseValueIndex = 96;

    private static readonly IntPtr* Api = Load();

    /// <summary>The CPU's memory (device allocator, default memory type), for tensors over memory of ours; kept for the process.</summary>
    private static readonly Lazy<IntPtr> CpuMemory = new(() =>
    {
        IntPtr info;
        Check(((delegate* unmanaged<int, int, IntPtr*, IntPtr>)Api[CreateCpuMemoryInfoIndex])(0, 0, &info));
        return info;
    });

    /// <summary>The CPU provider's name, as a custom operator reports it.</summary>
    public static readonly IntPtr CpuProviderUtf8 = Marshal.StringToCoTaskMemUTF8("CPUExecutionProvider");

    /// <summary>ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT.</summary>
    public const int ElementFloat = 1;

    /// <summary>ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8.</summary>
    public const int ElementUInt8 = 2;

    /// <summary>ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32.</summary>
    public const int ElementInt32 = 6;

    /// <summary>A new OrtStatus carrying ORT_FAIL and <paramref name="message"/>, for ONNX Runtime to raise.</summary>
    public static IntPtr Fail(string message)
    {
        IntPtr text = Marshal.StringToCoTaskMemUTF8(message);
        try
        {
            return ((delegate* unmanaged<int, IntPtr, IntPtr>)Api[CreateStatusIndex])(1, text);
        }
        finally
        {
            Marshal.FreeCoTaskMem(text);
        }
    }

    /// <summary>Throws when <paramref name="status"/> is an error (and releases it).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Check(IntPtr status)
    {
        if (status == IntPtr.Zero)
        {
            return;
        }

        string message = Marshal.PtrToStringUTF8(((delegate* unmanaged<IntPtr, IntPtr>)Api[GetErrorMessageIndex])(status)) ?? "ONNX Runtime error";
        ((delegate* unmanaged<IntPtr, void>)Api[ReleaseStatusIndex])(status);
        throw new InvalidOperationException(message);
    }

    /// <summary>Creates a custom operator domain named <paramref name="domain"/> (the native object lives as long as the process).</summary>
    public static IntPtr CreateCustomOpDomain(string domain)
    {
        IntPtr name = Marshal.StringToCoTaskMemUTF8(domain);
        try
        {
            IntPtr result;
            Check(((delegate* unmanaged<IntPtr, IntPtr*, IntPtr>)Api[CreateCustomOpDomainIndex])(name, &result));
            return result;
        }
        finally
        {
            Marshal.FreeCoTaskMem(name);
        }
    }

    /// <summary>Adds the operator <paramref name="op"/> (an <c>OrtCustomOp</c>) to <paramref name="domain"/>.</summary>
    public static void CustomOpDomainAdd(IntPtr domain, IntPtr op) =>
        Check(((delegate* unmanaged<IntPtr, IntPtr, IntPtr>)Api[CustomOpDomainAddIndex])(domain, op));

    /// <summary>Registers <paramref name="domain"/> with the native session options <paramref name="options"/>.</summary>
    public static void AddCustomOpDomain(IntPtr options, IntPtr domain) =>
        Check(((delegate* unmanaged<IntPtr, IntPtr, IntPtr>)Api[AddCustomOpDomainIndex])(options, domain));

    /// <summary>
    /// Gives a session about to be opened with <paramref name="options"/> the data of initializers its graph declares
    /// as external (<c>AddExternalInitializers</c>): ONNX Runtime copies each value as it loads the graph, so the
    /// values may be released once the session is open.
    /// </summary>
    public static void AddExternalInitializers(IntPtr options, IReadOnlyList<string> names, IReadOnlyList<IntPtr> values)
    {
        int count = names.Count;
        IntPtr* namePointers = stackalloc IntPtr[Math.Max(1, count)];
        IntPtr* valuePointers = stackalloc IntPtr[Math.Max(1, count)];
        try
        {
            for (int i = 0; i < count; i++)
            {
                namePointers[i] = Marshal.StringToCoTaskMemUTF8(names[i]);
                valuePointers[i] = values[i];
            }

            Check(((delegate* unmanaged<IntPtr, IntPtr*, IntPtr*, nuint, IntPtr>)Api[AddExternalInitializersIndex])(options, namePointers, valuePointers, (nuint)count));
        }
        finally
        {
            for (int i = 0; i < count; i++)
            {
                Marshal.FreeCoTaskMem(namePointers[i]);
            }
        }
    }

    /// <summary>
    /// A tensor (<c>OrtValue*</c>) of <paramref name="elementType"/> and <paramref name="shape"/> over
    /// <paramref name="bytes"/> bytes at <paramref name="data"/>, which stay the caller's; release it with
    /// <see cref="ReleaseValue"/> before freeing them.
    /// </summary>
    public static IntPtr CreateTensorOverMemory(void* data, nuint bytes, ReadOnlySpan<long> shape, int elementType)
    {
        IntPtr value;
        fixed (long* dims = shape)
        {
            Check(((delegate* unmanaged<IntPtr, void*, nuint, long*, nuint, int, IntPtr*, IntPtr>)Api[CreateTensorWithDataAsOrtValueIndex])(CpuMemory.Value, data, bytes, dims, (nuint)shape.Length, elementType, &value));
        }

        return value;
    }

    /// <summary>Releases a tensor made by <see cref="CreateTensorOverMemory"/>.</summary>
    public static void ReleaseValue(IntPtr value) => ((delegate* unmanaged<IntPtr, void>)Api[ReleaseValueIndex])(value);

    /// <summary>An int64 attribute of a node, or <paramref name="fallback"/> when the node has none.</summary>
    public static long AttributeInt64(IntPtr info, string name, long fallback) => Attribute(KernelInfoGetAttributeInt64Index, info, name, fallback);

    /// <summary>A float attribute of a node, or <paramref name="fallback"/> when the node has none.</summary>
    public static float AttributeFloat(IntPtr info, string name, float fallback) => Attribute(KernelInfoGetAttributeFloatIndex, info, name, fallback);

    /// <summary>Input <paramref name="index"/> of the node a kernel is being created for when it is a constant initializer, else zero.</summary>
    public static IntPtr ConstantInput(IntPtr info, int index)
    {
        int constant;
        IntPtr value;
        Check(((delegate* unmanaged<IntPtr, nuint, int*, IntPtr*, IntPtr>)Api[KernelInfoGetConstantInputTensorIndex])(info, (nuint)index, &constant, &value));
        return constant != 0 ? value : IntPtr.Zero;
    }

    /// <summary>Inputs the node was given (optional trailing ones absent).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int InputCount(IntPtr context)
    {
        nuint count;
        Check(((delegate* unmanaged<IntPtr, nuint*, IntPtr>)Api[KernelContextGetInputCountIndex])(context, &count));
        return (int)count;
    }

    /// <summary>Outputs the node has, counting optional ones it leaves out before the last it names.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int OutputCount(IntPtr context)
    {
        nuint count;
        Check(((delegate* unmanaged<IntPtr, nuint*, IntPtr>)Api[KernelContextGetOutputCountIndex])(context, &count));
        return (int)count;
    }

    /// <summary>Input <paramref name="index"/> of a running kernel (an <c>OrtValue*</c>), zero when absent.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static IntPtr Input(IntPtr context, int index)
    {
        IntPtr value;
        Check(((delegate* unmanaged<IntPtr, nuint, IntPtr*, IntPtr>)Api[KernelContextGetInputIndex])(context, (nuint)index, &value));
        return value;
    }

    /// <summary>Output <paramref name="index"/> of a running kernel with <paramref name="shape"/> (the caller's bound buffer when it has one).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static IntPtr Output(IntPtr context, int index, ReadOnlySpan<long> shape)
    {
        IntPtr value;
        fixed (long* dims = shape)
        {
            Check(((delegate* unmanaged<IntPtr, nuint, long*, nuint, IntPtr*, IntPtr>)Api[KernelContextGetOutputIndex])(context, (nuint)index, dims, (nuint)shape.Length, &value));
        }

        return value;
    }

    /// <summary>The data of a tensor value.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void* Data(IntPtr value)
    {
        void* data;
        Check(((delegate* unmanaged<IntPtr, void**, IntPtr>)Api[GetTensorMutableDataIndex])(value, &data));
        return data;
    }

    /// <summary>The element type (ONNX's numbering) and shape of a tensor value; the shape is written to <paramref name="shape"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static (int ElementType, int Rank) Shape(IntPtr value, Span<long> shape)
    {
        IntPtr info;
        Check(((delegate* unmanaged<IntPtr, IntPtr*, IntPtr>)Api[GetTensorTypeAndShapeIndex])(value, &info));
        try
        {
            int type;
            Check(((delegate* unmanaged<IntPtr, int*, IntPtr>)Api[GetTensorElementTypeIndex])(info, &type));
            nuint rank;
            Check(((delegate* unmanaged<IntPtr, nuint*, IntPtr>)Api[GetDimensionsCountIndex])(info, &rank));
            if ((int)rank > shape.Length)
            {
                throw new InvalidOperationException($"A tensor of rank {rank} where at most {shape.Length} was expected.");
            }

            fixed (long* dims = shape)
            {
                Check(((delegate* unmanaged<IntPtr, long*, nuint, IntPtr>)Api[GetDimensionsIndex])(info, dims, rank));
            }

            return (type, (int)rank);
        }
        finally
        {
            ((delegate* unmanaged<IntPtr, void>)Api[ReleaseTensorTypeAndShapeInfoIndex])(info);
        }
    }

    /// <summary>
    /// Runs <paramref name="work"/>(<paramref name="state"/>, i) for i in [0, <paramref name="total"/>) on the session's
    /// intra-op threads: the running thread's <see cref="KernelThreadPool.Current"/> when it has one
    /// (<see cref="SpinningMode.Brief"/>), else ONNX Runtime's pool.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ParallelFor(IntPtr context, delegate* unmanaged<void*, nuint, void> work, int total, void* state)
    {
        if (KernelThreadPool.Current is { } pool && pool.TryParallelFor(work, total, state))
        {
            return;
        }

        Check(((delegate* unmanaged<IntPtr, delegate* unmanaged<void*, nuint, void>, nuint, nuint, void*, IntPtr>)Api[KernelContextParallelForIndex])(context, work, (nuint)total, 0, state));
    }

    private static T Attribute<T>(int index, IntPtr info, string name, T fallback)
        where T : unmanaged
    {
        IntPtr text = Marshal.StringToCoTaskMemUTF8(name);
        try
        {
            T value;
            IntPtr status = ((delegate* unmanaged<IntPtr, IntPtr, T*, IntPtr>)Api[index])(info, text, &value);
            return Release(status) ? value : fallback;
        }
        finally
        {
            Marshal.FreeCoTaskMem(text);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool Release(IntPtr status)
    {
        if (status == IntPtr.Zero)
        {
            return true;
        }

        ((delegate* unmanaged<IntPtr, void>)Api[ReleaseStatusIndex])(status);
        return false;
    }

    private static IntPtr* Load()
    {
        // OrtApiBase is { const OrtApi* (*GetApi)(uint32_t version); const char* (*GetVersionString)(void); }.
        IntPtr* apiBase = (IntPtr*)NativeMethods.OrtGetApiBase();
        IntPtr api = ((delegate* unmanaged<uint, IntPtr>)apiBase[0])(ApiVersion);
        if (api == IntPtr.Zero)
        {
            string version = Marshal.PtrToStringUTF8(((delegate* unmanaged<IntPtr>)apiBase[1])()) ?? "?";
            throw new NotSupportedException($"ONNX Runtime {version} does not offer API version {ApiVersion}.");
        }

        return (IntPtr*)api;
    }

    private static partial class NativeMethods
    {
        [LibraryImport("onnxruntime")]
        internal static partial IntPtr OrtGetApiBase();
    }
}
