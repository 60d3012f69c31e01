using System.ComponentModel.DataAnnotations;
using LlmAspire.Inference.Engine.Speculation;

namespace LlmAspire.ModelServer;

/// <summary>
/// <c>ModelServer:Speculative</c>: prompt-lookup speculative decoding (vLLM's <c>ngram</c> method), off unless
/// <see cref="Tokens"/> &gt; 0. Greedy and seeded outputs stay the same; what it buys depends on how often the text
/// repeats what came before (code edits, quoting, summaries) and is measured with <c>llmaspire bench engine --speculative</c>.
/// </summary>
public sealed class ModelServerSpeculativeOptions
{
    /// <summary>Tokens proposed per sequence and step (vLLM's <c>num_speculative_tokens</c>); 0 = off.</summary>
    [Range(0, SpeculativeOptions.MaxTokensLimit, ErrorMessage = "ModelServer:Speculative:Tokens must be between {1} (off) and {2}.")]
    public int Tokens { get; set; }

    /// <summary>The longest suffix looked up in the sequence's earlier tokens (vLLM's <c>prompt_lookup_max</c>).</summary>
    [Range(1, SpeculativeOptions.MaxNgramLimit, ErrorMessage = "ModelServer:Speculative:MaxNgram must be between {1} and {2}.")]
    public int MaxNgram { get; set; } = SpeculativeOptions.DefaultMaxNgram;

    /// <summary>The shortest suffix trusted to predict what follows (vLLM's <c>prompt_lookup_min</c>); at most <see cref="MaxNgram"/>.</summary>
    [Range(1, SpeculativeOptions.MaxNgramLimit, ErrorMessage = "ModelServer:Speculative:MinNgram must be between {1} and {2}.")]
    public int MinNgram { get; set; } = SpeculativeOptions.DefaultMinNgram;

    /// <summary>Speculate only while at most this many sequences decode (larger batches are compute-bound).</summary>
    [Range(1, 1024, ErrorMessage = "ModelServer:Speculative:MaxBatch must be between {1} and {2}.")]
    public int MaxBatch { get; set; } = SpeculativeOptions.DefaultMaxBatch;

    /// <summary>The engine's options from these values.</summary>
    public SpeculativeOptions ToEngineOptions() => new() { Tokens = Tokens, MaxNgram = MaxNgram, MinNgram = MinNgram, MaxBatch = MaxBatch };
}
