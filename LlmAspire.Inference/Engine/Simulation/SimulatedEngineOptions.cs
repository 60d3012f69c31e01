namespace LlmAspire.Inference.Engine.Simulation;

/// <summary>
/// The simulated engine (<see cref="LanguageModel.CreateSimulated"/>): the real scheduler, prefix cache and sampler over
/// a model whose forward pass only sleeps, for a latency model of Llama 3 8B served by vLLM on one H100 SXM (80 GB).
/// One engine step (its prompt chunks and its decode pass, fused as vLLM's chunked prefill fuses them) takes
/// <c>DecodeBaseMs + PrefillMsPerToken × uncached prompt tokens + DecodeMsPerSequence × decoding sequences +
/// DecodeMsPerKvToken × KV positions those sequences read</c>; cached prefix tokens cost nothing.
/// </summary>
/// <remarks>
/// Where each default comes from (docs/BENCHMARKS.md, "Simulated fleets", says the same). The published inputs:
/// Llama 3 8B has 8.03 B parameters, 32 layers, 8 KV heads of 128 and an 8,192-token context (Meta's model card);
/// its KV cache takes 0.125 GB per 1,000 tokens in 16-bit (Hugging Face's Llama 3.1 post, "Inference memory
/// requirements"), i.e. 128 KiB per token; an H100 SXM reads HBM3 at 3.35 TB/s and does 989 dense BF16 TFLOPS
/// (NVIDIA's H100 datasheet); vLLM reserves <c>gpu_memory_utilization</c> = 0.9 of the GPU and runs at most
/// <c>max_num_seqs</c> = 256 sequences by default (vLLM's engine arguments). The step terms are ESTIMATES derived from
/// those, not measurements: a decode step reads the 16.1 GB of BF16 weights once (4.8 ms at 3.35 TB/s) plus launch,
/// sampling and scheduling overhead, rounded to 6 ms; each sequence adds its 2 × 8.03 GFLOP at roughly half of peak
/// (0.03 ms); each KV position read adds 128 KiB at 3.35 TB/s (0.04 µs); a prompt token costs its 16 GFLOP at about
/// 40 % of peak (0.04 ms, 25,000 prompt tokens/s). As a check, 256 sequences holding 1,000 positions each give a
/// 24 ms step, 10,600 tokens/s, near the ~12,500 tokens/s published for Llama 3.1 8B BF16 on one H100 with vLLM
/// (morphllm.com's vLLM benchmark round-up, 2026). The budget: 0.9 × 80 GB − 16.1 GB of weights − ~4 GB of
/// activations and CUDA graphs ≈ 52 GB of KV, 400,000 tokens (an estimate; vLLM logs its own figure at start-up).
/// </remarks>
public sealed record SimulatedEngineOptions
{
    /// <summary>The default of <see cref="ModelId"/>.</summary>
    public const string DefaultModelId = "simulated-llama-3-8b";

    /// <summary>The default of <see cref="PrefillMsPerToken"/> (an estimate: 16 GFLOP per token at ~40 % of 989 TFLOPS).</summary>
    public const double DefaultPrefillMsPerToken = 0.04;

    /// <summary>The default of <see cref="DecodeBaseMs"/> (an estimate: 16.1 GB of weights at 3.35 TB/s is 4.8 ms, plus overhead).</summary>
    public const double DefaultDecodeBaseMs = 6.0;

    /// <summary>The default of <see cref="DecodeMsPerSequence"/> (an estimate: 16 GFLOP per token at ~55 % of 989 TFLOPS).</summary>
    public const double DefaultDecodeMsPerSequence = 0.03;

    /// <summary>The default of <see cref="DecodeMsPerKvToken"/>: 128 KiB of KV per position read at 3.35 TB/s.</summary>
    public const double DefaultDecodeMsPerKvToken = 0.00004;

    /// <summary>The default of <see cref="KvBudgetTokens"/> (an estimate: ~52 GB of KV at 128 KiB per token).</summary>
    public const int DefaultKvBudgetTokens = 400_000;

    /// <summary>The default of <see cref="MaxSequences"/>: vLLM's <c>max_num_seqs</c>.</summary>
    public const int DefaultMaxSequences = 256;

    /// <summary>The default of <see cref="ContextLength"/>: Llama 3 8B's context.</summary>
    public const int DefaultContextLength = 8192;

    /// <summary>
    /// The default of <see cref="PrefillChunkTokens"/>: a choice within the range of vLLM's <c>max_num_batched_tokens</c>
    /// defaults (they differ by version and GPU), not a measurement.
    /// </summary>
    public const int DefaultPrefillChunkTokens = 2048;

    /// <summary>The model id served (<c>/v1/models</c>, the <c>model</c> of requests and metrics).</summary>
    public string ModelId { get; init; } = DefaultModelId;

    /// <summary>Milliseconds per prompt token computed (cached prefix tokens are not computed).</summary>
    public double PrefillMsPerToken { get; init; } = DefaultPrefillMsPerToken;

    /// <summary>Milliseconds of every step that computes anything: reading the weights once.</summary>
    public double DecodeBaseMs { get; init; } = DefaultDecodeBaseMs;

    /// <summary>Milliseconds per sequence in a decode pass.</summary>
    public double DecodeMsPerSequence { get; init; } = DefaultDecodeMsPerSequence;

    /// <summary>Milliseconds per KV position a decode pass reads (every decoding sequence reads all of its positions).</summary>
    public double DecodeMsPerKvToken { get; init; } = DefaultDecodeMsPerKvToken;

    /// <summary>
    /// KV positions the GPU holds: running sequences' reservations (prompt plus completion budget) must fit, and cached
    /// prefixes fill the rest, evicted least recently used when rows grow.
    /// </summary>
    public int KvBudgetTokens { get; init; } = DefaultKvBudgetTokens;

    /// <summary>Sequences that may run at once (KV rows; a free row keeps its sequence's tokens as a cached prefix). Rows cost no memory here.</summary>
    public int MaxSequences { get; init; } = DefaultMaxSequences;

    /// <summary>Positions per sequence (prompt plus completion).</summary>
    public int ContextLength { get; init; } = DefaultContextLength;

    /// <summary>Prompt tokens computed per step, so running streams keep flowing during long prompts.</summary>
    public int PrefillChunkTokens { get; init; } = DefaultPrefillChunkTokens;

    /// <summary>What is wrong with these values, in the words of the configuration <paramref name="prefix"/> (e.g. <c>ModelServer:Simulated:</c>); null when valid.</summary>
    public string? Validate(string prefix = "")
    {
        if (string.IsNullOrWhiteSpace(ModelId) || ModelId.Any(char.IsWhiteSpace))
        {
            return $"{prefix}ModelId must be a non-empty name without spaces; it is '{ModelId}'.";
        }

        foreach ((string name, double value) in new[]
        {
            (nameof(PrefillMsPerToken), PrefillMsPerToken),
            (nameof(DecodeBaseMs), DecodeBaseMs),
            (nameof(DecodeMsPerSequence), DecodeMsPerSequence),
            (nameof(DecodeMsPerKvToken), DecodeMsPerKvToken),
        })
        {
            if (!double.IsFinite(value) || value < 0 || value > 60_000)
            {
                return $"{prefix}{name} must be a number of milliseconds between 0 and 60000; it is {value}.";
            }
        }

        if (ContextLength < 2 || ContextLength > 1 << 20)
        {
            return $"{prefix}ContextLength must be between 2 and {1 << 20}; it is {ContextLength}.";
        }

        if (MaxSequences < 1 || MaxSequences > 4096)
        {
            return $"{prefix}MaxSequences must be between 1 and 4096; it is {MaxSequences}.";
        }

        if (KvBudgetTokens < ContextLength)
        {
            return $"{prefix}KvBudgetTokens must hold at least one full sequence ({prefix}ContextLength, {ContextLength}); it is {KvBudgetTokens}.";
        }

        return PrefillChunkTokens < 1 ? $"{prefix}PrefillChunkTokens must be at least 1; it is {PrefillChunkTokens}." : null;
    }
}
