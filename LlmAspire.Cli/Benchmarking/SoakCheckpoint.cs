using System.Text.Json.Serialization;

namespace LlmAspire.Cli.Benchmarking;

/// <summary>The servers' gauges and the processes' memory once a number of requests have finished and the servers settled.</summary>
public sealed record SoakCheckpoint(
    [property: JsonPropertyName("after_requests")] int AfterRequests,
    [property: JsonPropertyName("elapsed_seconds")] double ElapsedSeconds,
    [property: JsonPropertyName("gauges")] IReadOnlyList<SoakGauges> Gauges,
    [property: JsonPropertyName("processes")] IReadOnlyList<SoakProcess> Processes);
