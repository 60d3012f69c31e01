using System.ComponentModel.DataAnnotations;
using LlmAspire.Inference.Engine;
using LlmAspire.Inference.Engine.Simulation;

namespace LlmAspire.ModelServer;

/// <summary>The <c>ModelServer</c> configuration section (env <c>ModelServer__ModelPath</c>, ...), validated at start-up.</summary>
public sealed class ModelServerOptions : IValidatableObject
{
    public const string SectionName = "ModelServer";

    /// <summary>The <see cref="Engine"/> that loads <see cref="ModelPath"/> on ONNX Runtime (the default).</summary>
    public const string OnnxEngine = "onnx";

    /// <summary>The <see cref="Engine"/> that loads nothing and sleeps through a latency model (<see cref="Simulated"/>).</summary>
    public const string SimulatedEngine = "simulated";

    /// <summary>
    /// <c>onnx</c> serves <see cref="ModelPath"/> on ONNX Runtime; <c>simulated</c> serves no model: the same HTTP surface,
    /// queue, scheduler, prefix cache and metrics over passes that sleep for a GPU server's latency model
    /// (<see cref="Simulated"/>), for fleets of many servers on one machine. <see cref="ModelPath"/> is then ignored.
    /// </summary>
    [Required]
    [RegularExpression("(?i)^(onnx|simulated)$", ErrorMessage = "ModelServer:Engine must be onnx or simulated.")]
    public string Engine { get; set; } = OnnxEngine;

    /// <summary>Whether <see cref="Engine"/> is <c>simulated</c>.</summary>
    public bool IsSimulated => string.Equals(Engine, SimulatedEngine, StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// <c>ModelServer:Simulated:ModelId|PrefillMsPerToken|DecodeBaseMs|DecodeMsPerSequence|DecodeMsPerKvToken|KvBudgetTokens|MaxSequences|ContextLength|PrefillChunkTokens</c>:
    /// the simulated engine's model id and latency model; the defaults and their sources are on <see cref="SimulatedEngineOptions"/>.
    /// </summary>
    public SimulatedEngineOptions Simulated { get; set; } = new();

    /// <summary>
    /// The model to serve: a model folder, or a hub reference <c>hf:owner/repo[/subfolder][@revision]</c> downloaded
    /// into <see cref="CacheDirectory"/> (and converted) on first use; empty serves the built-in random-weight demo model.
    /// </summary>
    public string ModelPath { get; set; } = "";

    /// <summary>The hub that <c>hf:</c> references come from; empty uses <c>HF_ENDPOINT</c>, else https://huggingface.co.</summary>
    [RegularExpression("^(|https?://\\S+)$", ErrorMessage = "ModelServer:HubEndpoint must be an http:// or https:// URL.")]
    public string HubEndpoint { get; set; } = "";

    /// <summary>Where <c>hf:</c> models are cached; empty uses <c>$HF_HOME/llmaspire/hub</c>, else <c>~/.cache/llmaspire/hub</c>.</summary>
    public string CacheDirectory { get; set; } = "";

    /// <summary>
    /// When an <c>hf:</c> model cannot be had because the hub is unreachable and nothing is cached, serve the built-in
    /// demo model with a warning (true) or report Unhealthy (false). Other failures are always Unhealthy.
    /// </summary>
    public bool FallBackToDemoModel { get; set; } = true;

    /// <summary><c>auto</c> (CUDA when it works, else the CPU provider), <c>cpu</c> or <c>cuda</c> (fail without CUDA).</summary>
    [Required]
    [RegularExpression("(?i)^(auto|cpu|cuda)$", ErrorMessage = "ModelServer:ExecutionProvider must be auto, cpu or cuda.")]
    public string ExecutionProvider { get; set; } = "auto";

    /// <summary>Sequences the engine decodes together: KV memory for this many is allocated at start-up; also the largest <c>n</c>.</summary>
    [Range(1, 1024)]
    public int MaxSequences { get; set; } = EngineOptions.DefaultMaxSequences;

    /// <summary>Positions per sequence (prompt + completion); 0 = the model's context length, larger values are capped to it.</summary>
    [Range(0, 1 << 24)]
    public int MaxContext { get; set; }

    /// <summary>Requests that may wait for a free sequence while <see cref="MaxSequences"/> run; the next one gets 503 with Retry-After.</summary>
    [Range(1, 100_000)]
    public int MaxQueue { get; set; } = EngineOptions.DefaultMaxQueue;

    /// <summary>ONNX Runtime's threads per operator on the CPU; 0 = chosen from the model's size (one below 20 M parameters).</summary>
    [Range(0, 1024)]
    public int IntraOpThreads { get; set; }

    /// <summary>
    /// When ONNX Runtime's idle CPU threads spin instead of sleeping: <c>Off</c>, <c>WithinRun</c> (between the operators
    /// of a step, never between steps), <c>Always</c> or <c>Brief</c> (ONNX Runtime's sleep, our kernels' own workers spin at
    /// most 50 µs between operators); unset or empty takes <see cref="AllowSpinning"/>, else the engine's
    /// default (<see cref="SpinningMode"/>, docs/BENCHMARKS.md).
    /// </summary>
    [RegularExpression("(?i)^(|off|withinrun|always|brief)$", ErrorMessage = "ModelServer:Spinning must be Off, WithinRun, Always or Brief.")]
    public string? Spinning { get; set; }

    /// <summary>
    /// The kernel that runs attention on the CPU: <c>LlmAspire</c> (the default: our own, registered with ONNX Runtime for
    /// GroupQueryAttention) or <c>OnnxRuntime</c> (ONNX Runtime's, as GenAI runs it); see <see cref="AttentionKernelChoice"/>.
    /// </summary>
    [RegularExpression("(?i)^(|llmaspire|onnxruntime)$", ErrorMessage = "ModelServer:AttentionKernel must be LlmAspire or OnnxRuntime.")]
    public string? AttentionKernel { get; set; }

    /// <summary>The older switch, read when <see cref="Spinning"/> is unset: true means <c>Always</c>, false the engine's default.</summary>
    public bool AllowSpinning { get; set; }

    /// <summary>Prompt-lookup speculative decoding, <c>ModelServer:Speculative:Tokens|MaxNgram|MinNgram|MaxBatch</c>; off by default.</summary>
    public ModelServerSpeculativeOptions Speculative { get; set; } = new();

    /// <summary>Largest accepted request body; larger ones get 413.</summary>
    [Range(1024, 1L << 30)]
    public long MaxRequestBodyBytes { get; set; } = 1 << 20;

    /// <summary>
    /// Seconds a stopping server (SIGTERM) keeps serving the generations it already runs, streams included, while it
    /// refuses new ones with 503 <c>shutting_down</c> and reports unready; then it exits. The host's shutdown timeout is
    /// raised to cover it. Kubernetes' <c>terminationGracePeriodSeconds</c> must exceed it plus the <c>preStop</c> sleep.
    /// </summary>
    [Range(0, 3600)]
    public int ShutdownGracePeriodSeconds { get; set; } = 30;

    /// <summary>The engine's settings: <see cref="MaxSequences"/>, <see cref="MaxContext"/>, <see cref="MaxQueue"/>, <see cref="IntraOpThreads"/>, the spinning mode and the attention kernel.</summary>
    public EngineOptions GetEngineOptions() => new()
    {
        MaxSequences = MaxSequences,
        MaxContext = MaxContext,
        MaxQueue = MaxQueue,
        IntraOpThreads = IntraOpThreads,
        Spinning = !string.IsNullOrEmpty(Spinning) ? Enum.Parse<SpinningMode>(Spinning, ignoreCase: true)
            : AllowSpinning ? SpinningMode.Always
            : new EngineOptions().Spinning,
        Speculative = Speculative.ToEngineOptions(),
        Attention = string.IsNullOrEmpty(AttentionKernel) ? new EngineOptions().Attention : Enum.Parse<AttentionKernelChoice>(AttentionKernel, ignoreCase: true),
    };

    /// <summary>Checks the nested <see cref="Speculative"/> section, which data annotations on this class do not reach.</summary>
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        var results = new List<ValidationResult>();
        if (IsSimulated && Simulated?.Validate($"{SectionName}:{nameof(Simulated)}:") is { } badSimulation)
        {
            results.Add(new ValidationResult(badSimulation, [nameof(Simulated)]));
        }

        if (Speculative is null)
        {
            return results;
        }

        if (Validator.TryValidateObject(Speculative, new ValidationContext(Speculative), results, validateAllProperties: true)
            && Speculative.ToEngineOptions().Validate($"{SectionName}:{nameof(Speculative)}:") is { } invalid)
        {
            results.Add(new ValidationResult(invalid, [nameof(Speculative)]));
        }

        return results;
    }

    /// <summary>The parsed <see cref="ExecutionProvider"/> (a method, so validation never evaluates it before the value is checked).</summary>
    public ExecutionProviderPreference GetExecutionProviderPreference() =>
        Enum.Parse<ExecutionProviderPreference>(ExecutionProvider, ignoreCase: true);
}
