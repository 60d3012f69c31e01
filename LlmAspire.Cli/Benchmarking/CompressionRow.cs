using LlmAspire.Inference;

namespace LlmAspire.Cli.Benchmarking;

/// <summary>One row of <c>bench compression</c> (or <c>bench quantization</c>): a folder and what was measured on it.</summary>
internal sealed class CompressionRow(string name, string folder, CompressionVariant? variant)
{
    /// <summary>The row's name: <c>fp32</c> or the variant's.</summary>
    public string Name { get; } = name;

    /// <summary>The model folder measured.</summary>
    public string Folder { get; } = folder;

    /// <summary>How the folder was made from float32; null for the float32 row itself.</summary>
    public CompressionVariant? Variant { get; } = variant;

    /// <summary>The loaded model while measuring.</summary>
    public LanguageModel? Model { get; set; }

    /// <summary><c>model.onnx</c> plus its external data.</summary>
    public long Bytes { get; set; }

    /// <summary>Every timed single-stream decode step, all rounds.</summary>
    public List<double> StepSeconds { get; } = [];

    /// <summary>Single-stream tokens/s of each round (progress lines only).</summary>
    public List<double> Speeds { get; } = [];

    /// <summary>Aggregate tokens/s of the concurrent streams, one per round.</summary>
    public List<double> StreamSpeeds { get; } = [];

    /// <summary>Prompt tokens/s of the prefill pass, one per round.</summary>
    public List<double> PrefillSpeeds { get; } = [];

    /// <summary>Share of greedy tokens equal to float32's before the first divergence, averaged over prompts.</summary>
    public double PrefixAgreement { get; set; }

    /// <summary>Prompts whose whole greedy continuation equals float32's.</summary>
    public int WholePrompts { get; set; }

    /// <summary>Share of float32's continuation positions where this model's argmax is float32's token.</summary>
    public double TeacherForcedAgreement { get; set; }

    /// <summary>Mean KL(fp32 ‖ this) in nats per token over the held-out text.</summary>
    public double MeanKl { get; set; }

    /// <summary>Perplexity on the held-out text.</summary>
    public double Perplexity { get; set; }
}
