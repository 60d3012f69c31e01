using System.Text.Json.Serialization;

namespace LlmAspire.Cli.Benchmarking;

/// <summary>
/// vLLM benchmark_serving's metrics over one run's completed requests (failed requests count only in
/// <see cref="Failed"/> and <see cref="Errors"/>):
/// <list type="bullet">
/// <item>TTFT: sending the request → the first content chunk.</item>
/// <item>TPOT: (E2E − TTFT) / (output tokens − 1), per request with at least two output tokens.</item>
/// <item>ITL: every gap between successive content chunks, over all requests.</item>
/// <item>E2E latency: sending the request → the end of the stream.</item>
/// <item>Throughputs: completed requests, output tokens, and prompt + output tokens, each over the run's duration.</item>
/// <item>Goodput: completed requests meeting every SLO, over the run's duration.</item>
/// </list>
/// </summary>
public sealed record BenchmarkMetrics
{
    [JsonPropertyName("completed")]
    public int Completed { get; init; }

    [JsonPropertyName("failed")]
    public int Failed { get; init; }

    /// <summary>Requests sent streamed (the rest were not).</summary>
    [JsonPropertyName("streamed")]
    public int Streamed { get; init; }

    /// <summary>Non-streamed requests that failed: each one a request lost to the client.</summary>
    [JsonPropertyName("failed_non_streamed")]
    public int FailedNonStreamed { get; init; }

    /// <summary>Streams that failed after their answer began (<see cref="RequestOutcome.StreamStarted"/>): broken mid-way.</summary>
    [JsonPropertyName("streams_broken")]
    public int StreamsBroken { get; init; }

    /// <summary>Streams that failed before their answer began (refused with an error status, or no answer at all).</summary>
    [JsonPropertyName("streams_failed_before_start")]
    public int StreamsFailedBeforeStart { get; init; }

    /// <summary>Failure messages with how often each occurred, most frequent first.</summary>
    [JsonPropertyName("errors")]
    public IReadOnlyDictionary<string, int> Errors { get; init; } = new Dictionary<string, int>();

    [JsonPropertyName("duration_s")]
    public double DurationSeconds { get; init; }

    [JsonPropertyName("total_input_tokens")]
    public long TotalInputTokens { get; init; }

    [JsonPropertyName("total_output_tokens")]
    public long TotalOutputTokens { get; init; }

    /// <summary>Completed requests whose token counts came from the server's usage (the rest counted chunks).</summary>
    [JsonPropertyName("usage_reported")]
    public int UsageReported { get; init; }

    [JsonPropertyName("request_throughput")]
    public double RequestThroughput { get; init; }

    [JsonPropertyName("output_throughput")]
    public double OutputThroughput { get; init; }

    [JsonPropertyName("total_token_throughput")]
    public double TotalTokenThroughput { get; init; }

    /// <summary>Good requests per second; null when no SLO was given.</summary>
    [JsonPropertyName("request_goodput")]
    public double? RequestGoodput { get; init; }

    [JsonPropertyName("ttft")]
    public required LatencySummary Ttft { get; init; }

    [JsonPropertyName("tpot")]
    public required LatencySummary Tpot { get; init; }

    [JsonPropertyName("itl")]
    public required LatencySummary Itl { get; init; }

    [JsonPropertyName("e2el")]
    public required LatencySummary E2e { get; init; }

    /// <summary>Responses by X-Cache header value (HIT, MISS, …), when the server sent one.</summary>
    [JsonPropertyName("cache")]
    public IReadOnlyDictionary<string, int> Cache { get; init; } = new Dictionary<string, int>();

    public static BenchmarkMetrics Compute(IReadOnlyCollection<RequestOutcome> outcomes, double durationSeconds, GoodputSlo? slo = null)
    {
        ArgumentNullException.ThrowIfNull(outcomes);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(durationSeconds);
        RequestOutcome[] done = [.. outcomes.Where(o => o.Success)];
        long input = done.Sum(o => (long)o.PromptTokens);
        long output = done.Sum(o => (long)o.OutputTokens);
        return new BenchmarkMetrics
        {
            Completed = done.Length,
            Failed = outcomes.Count - done.Length,
            Streamed = outcomes.Count(o => o.Stream),
            FailedNonStreamed = outcomes.Count(o => !o.Success && !o.Stream),
            StreamsBroken = outcomes.Count(o => !o.Success && o.Stream && o.StreamStarted),
            StreamsFailedBeforeStart = outcomes.Count(o => !o.Success && o.Stream && !o.StreamStarted),
            Errors = outcomes.Where(o => !o.Success)
                .GroupBy(o => o.Error ?? "unknown error")
                .OrderByDescending(g => g.Count())
                .ToDictionary(g => g.Key, g => g.Count()),
            DurationSeconds = durationSeconds,
            TotalInputTokens = input,
            TotalOutputTokens = output,
            UsageReported = done.Count(o => o.UsageReported),
            RequestThroughput = done.Length / durationSeconds,
            OutputThroughput = output / durationSeconds,
            TotalTokenThroughput = (input + output) / durationSeconds,
            RequestGoodput = slo is null || slo.IsEmpty ? null : done.Count(slo.Meets) / durationSeconds,
            Ttft = LatencySummary.From([.. done.Select(o => o.TtftMs)]),
            Tpot = LatencySummary.From([.. done.Select(o => o.TpotMs).OfType<double>()]),
            Itl = LatencySummary.From([.. done.SelectMany(o => o.ChunkGapsMs)]),
            E2e = LatencySummary.From([.. done.Select(o => o.LatencyMs)]),
            Cache = done.Where(o => o.Cache is not null).GroupBy(o => o.Cache!.ToUpperInvariant()).ToDictionary(g => g.Key, g => g.Count()),
        };
    }
}
