using System.Runtime.InteropServices;
using LlmAspire.Inference.Engine.Kernels;
using Microsoft.ML.OnnxRuntime;

namespace LlmAspire.Bench.Fp32MatMul;

/// <summary>
/// Registers <see cref="MatMulKernel"/> with ONNX Runtime as a CPU kernel for the ONNX <c>MatMul</c> of float32
/// activations by a constant 2-D weight: as with <see cref="AttentionOperator"/>, the graph stays as written (GenAI and
/// the CUDA provider run it unchanged), and a session whose options carry this domain runs our kernel for those nodes.
/// A <c>MatMul</c> whose second input is not a constant [K, N] initializer makes the kernel refuse the node, and the
/// session fails to open.
/// </summary>
internal static unsafe class MatMulOperator
{
    /// <summary>The operator's domain: ONNX's own.</summary>
    public const string Domain = "";

    /// <summary>The operator's name.</summary>
    public const string Name = "MatMul";

    private const uint OpVersion = 17;

    private static readonly Lazy<IntPtr> DomainHandle = new(CreateDomain, LazyThreadSafetyMode.ExecutionAndPublication);
    private static readonly IntPtr NameUtf8 = Marshal.StringToCoTaskMemUTF8(Name);
    private static readonly IntPtr ProviderUtf8 = Marshal.StringToCoTaskMemUTF8("CPUExecutionProvider");

    /// <summary>Adds the operator's domain to <paramref name="options"/> (CPU sessions only).</summary>
    public static void Register(SessionOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!MatMulKernel.IsSupported)
        {
            throw new NotSupportedException("LlmAspire's MatMul kernel needs AVX-512 (Vector512 is not accelerated on this machine).");
        }

        OrtApiTable.AddCustomOpDomain(options.DangerousGetHandle(), DomainHandle.Value);
    }

    private static IntPtr CreateDomain()
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
        callbacks[9] = (IntPtr)(delegate* unmanaged<IntPtr, nuint, int>)&GetCharacteristic;
        callbacks[10] = (IntPtr)(delegate* unmanaged<IntPtr, nuint, int>)&GetCharacteristic;
        callbacks[11] = (IntPtr)(delegate* unmanaged<IntPtr, nuint, int>)&GetInputMemoryType;
        callbacks[16] = (IntPtr)(delegate* unmanaged<IntPtr, IntPtr, IntPtr, IntPtr*, IntPtr>)&CreateKernelV2;
        callbacks[17] = (IntPtr)(delegate* unmanaged<IntPtr, IntPtr, IntPtr>)&KernelComputeV2;
        callbacks[19] = (IntPtr)(delegate* unmanaged<IntPtr, int>)&GetStartVersion;
        callbacks[20] = (IntPtr)(delegate* unmanaged<IntPtr, int>)&GetEndVersion;
        IntPtr domain = OrtApiTable.CreateCustomOpDomain(Domain);
        OrtApiTable.CustomOpDomainAdd(domain, (IntPtr)op);
        return domain;
    }

    [UnmanagedCallersOnly]
    private static IntPtr GetName(IntPtr op) => NameUtf8;

    [UnmanagedCallersOnly]
    private static IntPtr GetExecutionProviderType(IntPtr op) => ProviderUtf8;

    [UnmanagedCallersOnly]
    private static int GetInputType(IntPtr op, nuint index) => OrtApiTable.ElementFloat;

    [UnmanagedCallersOnly]
    private static nuint GetInputTypeCount(IntPtr op) => 2;

    [UnmanagedCallersOnly]
    private static int GetOutputType(IntPtr op, nuint index) => OrtApiTable.ElementFloat;

    [UnmanagedCallersOnly]
    private static nuint GetOutputTypeCount(IntPtr op) => 1;

    [UnmanagedCallersOnly]
    private static int GetCharacteristic(IntPtr op, nuint index) => 0;

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
            IntPtr weight = ConstantInput(info, 1);
            if (weight == IntPtr.Zero)
            {
                return OrtApiTable.Fail("LlmAspire's MatMul kernel takes a constant weight as its second input; this node's is computed.");
            }

            Span<long> shape = stackalloc long[8];
            (int type, int rank) = OrtApiTable.Shape(weight, shape);
            if (type != OrtApiTable.ElementFloat || rank != 2)
            {
                return OrtApiTable.Fail($"LlmAspire's MatMul kernel takes a float32 [K, N] weight; this node's has rank {rank}.");
            }

            *kernel = GCHandle.ToIntPtr(GCHandle.Alloc(new MatMulKernel((float*)OrtApiTable.Data(weight), checked((int)shape[0]), checked((int)shape[1]))));
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
            ((MatMulKernel)GCHandle.FromIntPtr(kernel).Target!).Compute(context);
            return IntPtr.Zero;
        }
        catch (Exception ex)
        {
            return OrtApiTable.Fail($"LlmAspire MatMul: {ex.Message}");
        }
    }

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
        ((MatMulKernel)handle.Target!).Dispose();
        handle.Free();
    }
}
