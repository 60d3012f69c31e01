using LlmAspire.Inference.Engine.Kernels;
using Microsoft.ML.OnnxRuntime;

namespace LlmAspire.Bench.Fp32MatMul;

/// <summary>
/// Registers <see cref="MatMulKernel"/> with ONNX Runtime as a CPU kernel for the ONNX <c>MatMul</c> of float32
/// activations by a constant 2-D weight (through the engine's <see cref="CustomOperator"/>, as the attention kernel is):
/// the graph stays as written (GenAI and the CUDA provider run it unchanged), and a session whose options carry this
/// domain runs our kernel for those nodes. A <c>MatMul</c> whose second input is not a constant [K, N] initializer makes
/// the kernel refuse the node, and the session fails to open.
/// </summary>
internal static unsafe class MatMulOperator
{
    /// <summary>The operator's domain: ONNX's own.</summary>
    public const string Domain = "";

    /// <summary>The operator's name.</summary>
    public const string Name = "MatMul";

    private static readonly Lazy<IntPtr> DomainHandle = new(
        () => CustomOperator.CreateDomain(Domain, new CustomOperator(Name, [new(OrtApiTable.ElementFloat), new(OrtApiTable.ElementFloat)], [new(OrtApiTable.ElementFloat)], CreateKernel)),
        LazyThreadSafetyMode.ExecutionAndPublication);

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

    public static bool InPlace;

    private static ICustomKernel CreateKernel(IntPtr info)
    {
        IntPtr weight = OrtApiTable.ConstantInput(info, 1);
        if (weight == IntPtr.Zero)
        {
            throw new NotSupportedException("LlmAspire's MatMul kernel takes a constant weight as its second input; this node's is computed.");
        }

        Span<long> shape = stackalloc long[8];
        (int type, int rank) = OrtApiTable.Shape(weight, shape);
        return type != OrtApiTable.ElementFloat || rank != 2
            ? throw new NotSupportedException($"LlmAspire's MatMul kernel takes a float32 [K, N] weight; this node's has rank {rank}.")
            : InPlace ? new InPlaceKernel((float*)OrtApiTable.Data(weight), checked((int)shape[0]), checked((int)shape[1]))
            : new MatMulKernel((float*)OrtApiTable.Data(weight), checked((int)shape[0]), checked((int)shape[1]));
    }
}
