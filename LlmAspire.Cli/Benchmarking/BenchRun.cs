using System.Text.Json.Serialization;

namespace LlmAspire.Cli.Benchmarking;

/// <summary>One load setting of a <c>bench serve</c> invocation: the shape offered, the metrics, and every request.</summary>
public sealed record BenchRun
{
    [JsonPropertyName("request_rate")]
    public double RequestRate { get; init; }

    [JsonPropertyName("burstiness")]
    public double Burstiness { get; init; }

    [JsonPropertyName("max_concurrency")]
    public int? MaxConcurrency { get; init; }

    [JsonPropertyName("num_prompts")]
    public int NumPrompts { get; init; }

    [JsonPropertyName("metrics")]
    public required BenchmarkMetrics Metrics { get; init; }

    [JsonPropertyName("requests")]
    public IReadOnlyList<RequestOutcome> Requests { get; init; } = [];
}
