namespace LlmAspire.Inference.Engine;

/// <summary>Which kernel runs the graph's <c>com.microsoft.GroupQueryAttention</c> nodes on the CPU.</summary>
public enum AttentionKernelChoice
{
    /// <summary>
    /// LlmAspire's own (<c>Kernels.AttentionKernel</c>), registered with ONNX Runtime as a custom CPU kernel for the same
    /// operator: one pass over each key and value for all the query heads that share them, no per-head GEMM calls, and
    /// no thread-pool dispatch for a decode step's few microseconds of work. Falls back to ONNX Runtime's own when the
    /// graph is not float32 or registration fails. The CUDA provider always runs ONNX Runtime's. With it comes our
    /// SkipSimplifiedLayerNormalization kernel (<c>Kernels.SkipNormKernel</c>, bit-identical to ONNX Runtime's), which
    /// runs a decode step's few rows on the calling thread instead of waking the pool.
    /// </summary>
    LlmAspire,

    /// <summary>ONNX Runtime's own GroupQueryAttention and norm kernels (what ONNX Runtime GenAI runs).</summary>
    OnnxRuntime,
}
