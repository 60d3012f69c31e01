namespace LlmAspire.Bench.Peers;

/// <summary>One peer with one workload's model loaded, measured round after round.</summary>
internal interface IPeerRunner : IDisposable
{
    /// <summary>One timed run: generated (or, for a prefill, prompt) tokens per second of wall time.</summary>
    Task<double> MeasureAsync(CancellationToken cancellationToken);

    /// <summary>The first stream's greedy tokens in the last run (empty for a prefill): on float32 the peers must agree; on int8 GenAI runs our very folder, llama.cpp its own Q8_0.</summary>
    IReadOnlyList<int> LastTokens { get; }

    /// <summary>How many leading greedy tokens of the last run's first stream match <paramref name="ours"/>.</summary>
    int SharedWith(IReadOnlyList<int> ours) => ours.Zip(LastTokens).TakeWhile(p => p.First == p.Second).Count();
}

/// <summary>What every peer is given for a workload.</summary>
/// <param name="Threads">Threads for the peer's compute (intra-op threads; llama.cpp's threads and batch threads).</param>
/// <param name="Tokens">Tokens each stream decodes, end-of-sequence suppressed.</param>
/// <param name="Prompt">Every stream's prompt (BOS first).</param>
/// <param name="PrefillPrompt">The prefill rows' prompt, <see cref="Workload.PrefillTokens"/> tokens.</param>
/// <param name="PromptText"><paramref name="Prompt"/> as text (after BOS), for a peer that tokenizes it itself (run.c).</param>
internal sealed record RunSettings(int Threads, int Tokens, int[] Prompt, int[] PrefillPrompt, string PromptText);
