namespace LlmAspire.Inference.Engine;

/// <summary>Which ONNX Runtime execution provider a model is loaded on.</summary>
public enum ExecutionProviderPreference
{
    /// <summary>Try CUDA; fall back to the CPU provider and say why.</summary>
    Auto,

    /// <summary>The CPU provider only.</summary>
    Cpu,

    /// <summary>CUDA or fail.</summary>
    Cuda,
}
