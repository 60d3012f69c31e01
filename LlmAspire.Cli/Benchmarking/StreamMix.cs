namespace LlmAspire.Cli.Benchmarking;

/// <summary>
/// A workload with streamed and non-streamed requests interleaved evenly (<c>bench serve --stream-ratio</c>): of every
/// stretch of prompts, the share <c>ratio</c> is streamed, spread out rather than bunched, so both kinds meet whatever
/// happens to the servers during the run.
/// </summary>
public static class StreamMix
{
    /// <summary>
    /// <paramref name="prompts"/> with <see cref="BenchPrompt.Stream"/> set: prompt <c>i</c> is streamed when
    /// ⌊(i + 1)·ratio⌋ &gt; ⌊i·ratio⌋ (ratio 0.5: every other one; 0 none, 1 all).
    /// </summary>
    public static IReadOnlyList<BenchPrompt> Apply(IReadOnlyList<BenchPrompt> prompts, double ratio)
    {
        ArgumentNullException.ThrowIfNull(prompts);
        ArgumentOutOfRangeException.ThrowIfLessThan(ratio, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(ratio, 1);
        return [.. prompts.Select((prompt, i) => prompt with { Stream = Math.Floor((i + 1) * ratio) > Math.Floor(i * ratio) })];
    }
}
