using LlmAspire.Cli.Benchmarking;

namespace LlmAspire.Tests.Cli.Benchmarking;

public sealed class StreamMixTests
{
    private static readonly BenchPrompt[] s_prompts = [.. Enumerable.Range(0, 12).Select(i => new BenchPrompt($"p{i}", 2, 8))];

    [Theory]
    [InlineData(0.5, "-S-S-S-S-S-S")]
    [InlineData(0.25, "---S---S---S")]
    [InlineData(0.0, "------------")]
    [InlineData(1.0, "SSSSSSSSSSSS")]
    public void Apply_StreamsTheShareEvenlyInterleaved(double ratio, string expected)
    {
        var mixed = StreamMix.Apply(s_prompts, ratio);

        Assert.Equal(expected, string.Concat(mixed.Select(prompt => prompt.Stream == true ? 'S' : '-')));
        Assert.Equal(s_prompts.Select(prompt => prompt.Text), mixed.Select(prompt => prompt.Text));
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(1.1)]
    public void Apply_RatioOutsideZeroToOne_Throws(double ratio) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => StreamMix.Apply(s_prompts, ratio));

    [Fact]
    public void Compute_CountsFailuresByKind_NonStreamedBrokenStreamsAndStreamsRefusedBeforeTheyBegan()
    {
        RequestOutcome[] outcomes =
        [
            new() { Success = true, Stream = true, TtftMs = 10, LatencyMs = 20, OutputTokens = 2 },
            new() { Success = true, Stream = false, TtftMs = 15, LatencyMs = 15, OutputTokens = 2 },
            new() { Success = false, Stream = false, Error = "HTTP 502: gone" },
            new() { Success = false, Stream = true, StreamStarted = true, Error = "stream error: broke" },
            new() { Success = false, Stream = true, StreamStarted = true, Error = "stream ended without data: [DONE]" },
            new() { Success = false, Stream = true, StreamStarted = false, Error = "HTTP 503: busy" },
        ];

        var metrics = BenchmarkMetrics.Compute(outcomes, 1.0);
        var report = BenchReport.Format(new BenchRun { RequestRate = 1, NumPrompts = outcomes.Length, Metrics = metrics, Requests = outcomes }, null);

        Assert.Equal(4, metrics.Streamed);
        Assert.Equal(1, metrics.FailedNonStreamed);
        Assert.Equal(2, metrics.StreamsBroken);
        Assert.Equal(1, metrics.StreamsFailedBeforeStart);
        Assert.Matches(@"Failed non-streamed requests: +1\r?\n", report);
        Assert.Matches(@"Streams broken after they started: +2\r?\n", report);
        Assert.Matches(@"Streams failed before they started: +1\r?\n", report);
    }
}
