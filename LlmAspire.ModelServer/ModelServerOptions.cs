using System.ComponentModel.DataAnnotations;
using LlmAspire.Inference.Engine;

namespace LlmAspire.ModelServer;

/// <summary>The <c>ModelServer</c> configuration section (env <c>ModelServer__ModelPath</c>, ...), validated at start-up.</summary>
public sealed class ModelServerOptions
{
    public const string SectionName = "ModelServer";

    /// <summary>The model folder to serve; empty serves the built-in random-weight demo model.</summary>
    public string ModelPath { get; set; } = "";

    /// <summary><c>auto</c> (CUDA when it works, else the CPU provider), <c>cpu</c> or <c>cuda</c> (fail without CUDA).</summary>
    [Required]
    [RegularExpression("(?i)^(auto|cpu|cuda)$", ErrorMessage = "ModelServer:ExecutionProvider must be auto, cpu or cuda.")]
    public string ExecutionProvider { get; set; } = "auto";

    /// <summary>Requests that may wait for the engine while one runs; the next one gets 503 with Retry-After.</summary>
    [Range(1, 100_000)]
    public int MaxQueue { get; set; } = 16;

    /// <summary>Largest accepted request body; larger ones get 413.</summary>
    [Range(1024, 1L << 30)]
    public long MaxRequestBodyBytes { get; set; } = 1 << 20;

    /// <summary>The parsed <see cref="ExecutionProvider"/> (a method, so validation never evaluates it before the value is checked).</summary>
    public ExecutionProviderPreference GetExecutionProviderPreference() =>
        Enum.Parse<ExecutionProviderPreference>(ExecutionProvider, ignoreCase: true);
}
