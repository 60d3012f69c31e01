using Microsoft.ML.OnnxRuntime;

namespace LlmAspire.Inference.Engine.Kernels;

/// <summary>
/// LlmAspire's CPU kernels for operators of the <c>com.microsoft</c> domain, registered together on a session's options
/// (<see cref="AttentionKernelChoice.LlmAspire"/>): <see cref="AttentionKernel"/> for GroupQueryAttention,
/// <see cref="SkipNormKernel"/> for SkipSimplifiedLayerNormalization and, on x64 CPUs with AVX2 and FMA,
/// <see cref="QuickGeluKernel"/> for QuickGelu (ONNX Runtime's fusion of a graph's SiLU). The graph is not rewritten;
/// nodes of other operators, or of other element types, keep ONNX Runtime's kernels — except that a float16 graph's
/// nodes of these names match no kernel of the domain, so the session refuses to load and is opened again without it
/// (ONNX Runtime's kernels for all of them). On CPUs with AVX-512 a second domain, ours (<c>com.llmaspire</c>), holds
/// <see cref="PackedMatMulKernel"/> (and, with AVX-VNNI, <see cref="PackedMatMulNBitsKernel"/>), for the MatMuls and
/// 8-bit MatMulNBits nodes <see cref="PackedMatMulRewriter"/> rewrote at load, and <see cref="SwiGluKernel"/> for the
/// SwiGLUs it fused.
/// </summary>
internal static class LlmAspireKernels
{
    /// <summary>The domain of the operators replaced.</summary>
    public const string Domain = "com.microsoft";

    private static readonly Lazy<IntPtr> DomainHandle = new(
        () => CustomOperator.CreateDomain(Domain, [
            AttentionOperator.Create(),
            SkipNormKernel.Create(),
            .. QuickGeluKernel.IsSupported ? [QuickGeluKernel.Create()] : Array.Empty<CustomOperator>(),
        ]),
        LazyThreadSafetyMode.ExecutionAndPublication);

    private static readonly Lazy<IntPtr> PackedDomainHandle = new(
        () => CustomOperator.CreateDomain(PackedMatMulKernel.Domain, [
            PackedMatMulKernel.Create(),
            .. PackedMatMulNBitsKernel.IsSupported ? [PackedMatMulNBitsKernel.Create()] : Array.Empty<CustomOperator>(),
            .. SwiGluKernel.IsSupported ? [SwiGluKernel.Create()] : Array.Empty<CustomOperator>(),
        ]),
        LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>
    /// Adds the kernels' domain to <paramref name="options"/> (CPU sessions only), and on CPUs with AVX-512 ours
    /// (<c>com.llmaspire</c>: <see cref="PackedMatMulKernel"/>, for graphs <see cref="PackedMatMulRewriter"/> rewrote).
    /// </summary>
    public static void Register(SessionOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        OrtApiTable.AddCustomOpDomain(options.DangerousGetHandle(), DomainHandle.Value);
        if (PackedMatMulKernel.IsSupported)
        {
            OrtApiTable.AddCustomOpDomain(options.DangerousGetHandle(), PackedDomainHandle.Value);
        }
    }
}
