namespace LlmAspire.Inference.Engine;

/// <summary>Which kernel runs the graph's <c>com.microsoft.GroupQueryAttention</c> nodes on the CPU.</summary>
public enum AttentionKernelChoice
{
    /// <summary>
    /// LlmAspire's own (<c>Kernels.AttentionKernel</c>), registered with ONNX Runtime as a custom CPU kernel for the same
    /// operator: one pass over each key and value for all the query heads that share them, no per-head GEMM calls, and
    /// no thread-pool dispatch for a decode step's few microseconds of work. Falls back to ONNX Runtime's own when the
    /// graph is not float32 or registration fails. The CUDA provider always runs ONNX Runtime's.
    /// </summary>
    LlmAspire,

    /// <summary>ONNX Runtime's own GroupQueryAttention kernel (what ONNX Runtime GenAI runs).</summary>
    OnnxRuntime,
}
