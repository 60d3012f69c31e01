namespace LlmAspire.Inference.Engine.Speculation;

/// <summary>
/// Speculative decoding without a draft model (prompt lookup, vLLM's <c>ngram</c> method): each step proposes up to
/// <see cref="Tokens"/> tokens that followed the latest earlier occurrence of the sequence's last n tokens, and one
/// forward pass checks them all. Worth it while decode steps are bound by memory bandwidth (few sequences), where a
/// pass over k + 1 tokens costs about as much as over one; hence off beyond <see cref="MaxBatch"/> sequences.
/// </summary>
public sealed record SpeculativeOptions
{
    /// <summary>The default of <see cref="MaxNgram"/> (vLLM's <c>prompt_lookup_max</c>).</summary>
    public const int DefaultMaxNgram = 4;

    /// <summary>The default of <see cref="MinNgram"/> (vLLM's <c>prompt_lookup_min</c>).</summary>
    public const int DefaultMinNgram = 2;

    /// <summary>
    /// The default of <see cref="MaxBatch"/>. Small because every sequence decoding computes K + 1 positions in a
    /// checking pass (with our CPU attention kernel one pass checks them all; with ONNX Runtime's, on CUDA and for
    /// float16 graphs, each sequence with a proposal takes a pass of its own, which reads the weights again): with more
    /// sequences the step stops being bound by reading the weights, and the extra positions cost more than accepted
    /// proposals save.
    /// </summary>
    public const int DefaultMaxBatch = 2;

    /// <summary>The largest <see cref="Tokens"/>: a longer run is rarely accepted whole, and every proposed token is computed.</summary>
    public const int MaxTokensLimit = 32;

    /// <summary>The largest <see cref="MaxNgram"/>.</summary>
    public const int MaxNgramLimit = 64;

    /// <summary>Tokens proposed per sequence and step (vLLM's <c>num_speculative_tokens</c>); 0 turns speculation off (the default).</summary>
    public int Tokens { get; init; }

    /// <summary>The longest suffix looked up in the sequence's earlier tokens; longer matches are tried first.</summary>
    public int MaxNgram { get; init; } = DefaultMaxNgram;

    /// <summary>The shortest suffix whose earlier occurrence is trusted to predict what follows.</summary>
    public int MinNgram { get; init; } = DefaultMinNgram;

    /// <summary>Speculate only while at most this many sequences decode: larger batches are compute-bound, where checking proposals costs real time.</summary>
    public int MaxBatch { get; init; } = DefaultMaxBatch;

    /// <summary>Whether steps propose tokens at all.</summary>
    public bool Enabled => Tokens > 0;

    /// <summary>What is wrong with these values, in the words of the given configuration <paramref name="prefix"/> (e.g. <c>ModelServer:Speculative:</c>); null when valid.</summary>
    public string? Validate(string prefix = "")
    {
        if (Tokens < 0 || Tokens > MaxTokensLimit)
        {
            return $"{prefix}Tokens must be between 0 (off) and {MaxTokensLimit}; it is {Tokens}.";
        }

        if (MaxNgram < 1 || MaxNgram > MaxNgramLimit)
        {
            return $"{prefix}MaxNgram must be between 1 and {MaxNgramLimit}; it is {MaxNgram}.";
        }

        if (MinNgram < 1 || MinNgram > MaxNgram)
        {
            return $"{prefix}MinNgram must be between 1 and {prefix}MaxNgram ({MaxNgram}); it is {MinNgram}.";
        }

        return MaxBatch < 1 ? $"{prefix}MaxBatch must be at least 1; it is {MaxBatch}." : null;
    }
}
