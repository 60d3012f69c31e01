using System.Runtime.InteropServices;
using LlmAspire.Inference.Engine.Kernels;
using Microsoft.ML.OnnxRuntime;

namespace LlmAspire.Bench.Int8MatMul;

/// <summary>
/// Registers <see cref="MatMulNBitsKernel"/> with ONNX Runtime as a CPU kernel for <c>com.microsoft.MatMulNBits</c>: the
/// graph stays as written. The kernel takes 8-bit weights with constant scales, constant or absent zero points and bias,
/// no <c>g_idx</c>, and K a multiple of the block size; a node it cannot take fails the session.
/// </summary>
internal static unsafe class MatMulNBitsOperator
{
    /// <summary>The operator's name.</summary>
    public const string Name = "MatMulNBits";

    // A, B, scales, zero_points, g_idx, bias.
    private const int Inputs = 6;

    private const uint OpVersion = 17;

    private static readonly IntPtr NameUtf8 = Marshal.StringToCoTaskMemUTF8(Name);
    private static readonly IntPtr ProviderUtf8 = Marshal.StringToCoTaskMemUTF8("CPUExecutionProvider");

    private static readonly Lazy<IntPtr> DomainHandle = new(() =>
    {
        IntPtr domain = OrtApiTable.CreateCustomOpDomain("com.microsoft");
        OrtApiTable.CustomOpDomainAdd(domain, Create());
        return domain;
    });

    /// <summary>Adds the operator's domain to <paramref name="options"/> (CPU sessions only).</summary>
    public static void Register(SessionOptions options)
    {
        if (!MatMulNBitsKernel.IsSupported)
        {
            throw new NotSupportedException("The int8 MatMulNBits kernel needs AVX-VNNI and AVX-512.");
        }

        OrtApiTable.AddCustomOpDomain(options.DangerousGetHandle(), DomainHandle.Value);
    }

    private static IntPtr Create()
    {
        IntPtr* op = (IntPtr*)NativeMemory.AllocZeroed(8 + (25 * (nuint)sizeof(IntPtr)));
        *(uint*)op = OpVersion;
        IntPtr* callbacks = op + 1;
        callbacks[1] = (IntPtr)(delegate* unmanaged<IntPtr, IntPtr>)&GetName;
        callbacks[2] = (IntPtr)(delegate* unmanaged<IntPtr, IntPtr>)&GetExecutionProviderType;
        callbacks[3] = (IntPtr)(delegate* unmanaged<IntPtr, nuint, int>)&GetInputType;
        callbacks[4] = (IntPtr)(delegate* unmanaged<IntPtr, nuint>)&GetInputTypeCount;
        callbacks[5] = (IntPtr)(delegate* unmanaged<IntPtr, nuint, int>)&GetOutputType;
        callbacks[6] = (IntPtr)(delegate* unmanaged<IntPtr, nuint>)&GetOutputTypeCount;
        callbacks[8] = (IntPtr)(delegate* unmanaged<IntPtr, void>)&KernelDestroy;
        callbacks[9] = (IntPtr)(delegate* unmanaged<IntPtr, nuint, int>)&GetInputCharacteristic;
        callbacks[10] = (IntPtr)(delegate* unmanaged<IntPtr, nuint, int>)&GetOutputCharacteristic;
        callbacks[11] = (IntPtr)(delegate* unmanaged<IntPtr, nuint, int>)&GetInputMemoryType;
        callbacks[16] = (IntPtr)(delegate* unmanaged<IntPtr, IntPtr, IntPtr, IntPtr*, IntPtr>)&CreateKernelV2;
        callbacks[17] = (IntPtr)(delegate* unmanaged<IntPtr, IntPtr, IntPtr>)&KernelComputeV2;
        callbacks[19] = (IntPtr)(delegate* unmanaged<IntPtr, int>)&GetStartVersion;
        callbacks[20] = (IntPtr)(delegate* unmanaged<IntPtr, int>)&GetEndVersion;
        return (IntPtr)op;
    }

    [UnmanagedCallersOnly]
    private static IntPtr GetName(IntPtr op) => NameUtf8;

    [UnmanagedCallersOnly]
    private static IntPtr GetExecutionProviderType(IntPtr op) => ProviderUtf8;

    [UnmanagedCallersOnly]
    private static int GetInputType(IntPtr op, nuint index) => index switch
    {
        1 or 3 => ElementUInt8,
        4 => OrtApiTable.ElementInt32,
        _ => OrtApiTable.ElementFloat,
    };

    [UnmanagedCallersOnly]
    private static nuint GetInputTypeCount(IntPtr op) => Inputs;

    [UnmanagedCallersOnly]
    private static int GetOutputType(IntPtr op, nuint index) => OrtApiTable.ElementFloat;

    [UnmanagedCallersOnly]
    private static nuint GetOutputTypeCount(IntPtr op) => 1;

    // zero_points, g_idx and bias are optional.
    [UnmanagedCallersOnly]
    private static int GetInputCharacteristic(IntPtr op, nuint index) => index >= 3 ? 1 : 0;

    [UnmanagedCallersOnly]
    private static int GetOutputCharacteristic(IntPtr op, nuint index) => 0;

    [UnmanagedCallersOnly]
    private static int GetInputMemoryType(IntPtr op, nuint index) => 0;

    [UnmanagedCallersOnly]
    private static int GetStartVersion(IntPtr op) => 1;

    [UnmanagedCallersOnly]
    private static int GetEndVersion(IntPtr op) => int.MaxValue;

    [UnmanagedCallersOnly]
    private static IntPtr CreateKernelV2(IntPtr op, IntPtr api, IntPtr info, IntPtr* kernel)
    {
        try
        {
            int k = (int)OrtApiTable.AttributeInt64(info, "K", 0);
            int n = (int)OrtApiTable.AttributeInt64(info, "N", 0);
            int bits = (int)OrtApiTable.AttributeInt64(info, "bits", 4);
            int blockSize = (int)OrtApiTable.AttributeInt64(info, "block_size", 0);
            if (bits != 8)
            {
                return OrtApiTable.Fail($"LlmAspire's MatMulNBits kernel takes 8-bit weights; this node's are {bits}-bit.");
            }

            // A node the graph check passed (CpuKernels) has no g_idx, and zero points and bias absent or constant:
            // an absent optional input reads as not constant.
            IntPtr weight = ConstantInput(info, 1);
            IntPtr scales = ConstantInput(info, 2);
            IntPtr zeroPoints = ConstantInput(info, 3);
            IntPtr bias = ConstantInput(info, 5);
            if (weight == IntPtr.Zero || scales == IntPtr.Zero)
            {
                return OrtApiTable.Fail("LlmAspire's MatMulNBits kernel takes constant weights and scales.");
            }

            Span<long> shape = stackalloc long[8];
            (int type, _) = OrtApiTable.Shape(zeroPoints == IntPtr.Zero ? scales : zeroPoints, shape);
            if (zeroPoints != IntPtr.Zero && type != ElementUInt8)
            {
                return OrtApiTable.Fail("LlmAspire's MatMulNBits kernel takes uint8 zero points.");
            }

            *kernel = GCHandle.ToIntPtr(GCHandle.Alloc(new MatMulNBitsKernel(
                (byte*)OrtApiTable.Data(weight),
                (float*)OrtApiTable.Data(scales),
                zeroPoints == IntPtr.Zero ? null : (byte*)OrtApiTable.Data(zeroPoints),
                bias == IntPtr.Zero ? null : (float*)OrtApiTable.Data(bias),
                k,
                n,
                blockSize)));
            return IntPtr.Zero;
        }
        catch (Exception ex)
        {
            return OrtApiTable.Fail(ex.Message);
        }
    }

    [UnmanagedCallersOnly]
    private static IntPtr KernelComputeV2(IntPtr kernel, IntPtr context)
    {
        try
        {
            ((MatMulNBitsKernel)GCHandle.FromIntPtr(kernel).Target!).Compute(context);
            return IntPtr.Zero;
        }
        catch (Exception ex)
        {
            return OrtApiTable.Fail($"LlmAspire MatMulNBits: {ex.Message}");
        }
    }

    private const int ElementUInt8 = 2;

    /// <summary>Input <paramref name="index"/> of the node being created when it is a constant initializer, else zero (<c>KernelInfoGetConstantInput_tensor</c>, entry 249 of <c>OrtApi</c>).</summary>
    private static IntPtr ConstantInput(IntPtr info, int index)
    {
        IntPtr* apiBase = (IntPtr*)OrtGetApiBase();
        IntPtr* api = (IntPtr*)((delegate* unmanaged<uint, IntPtr>)apiBase[0])(17);
        int constant;
        IntPtr value;
        OrtApiTable.Check(((delegate* unmanaged<IntPtr, nuint, int*, IntPtr*, IntPtr>)api[249])(info, (nuint)index, &constant, &value));
        return constant != 0 ? value : IntPtr.Zero;
    }

    [DllImport("onnxruntime")]
    private static extern IntPtr OrtGetApiBase();

    [UnmanagedCallersOnly]
    private static void KernelDestroy(IntPtr kernel)
    {
        GCHandle handle = GCHandle.FromIntPtr(kernel);
        ((MatMulNBitsKernel)handle.Target!).Dispose();
        handle.Free();
    }
}
