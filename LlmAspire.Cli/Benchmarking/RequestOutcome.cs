using System.Text.Json.Serialization;

namespace LlmAspire.Cli.Benchmarking;

/// <summary>
/// What one benchmark request measured. Times are milliseconds: <see cref="StartMs"/> from the start of the run,
/// <see cref="TtftMs"/> from sending the request to the first content chunk, <see cref="ChunkGapsMs"/> every gap
/// between successive content chunks, <see cref="LatencyMs"/> from sending to the end of the stream.
/// </summary>
public sealed record RequestOutcome
{
    [JsonPropertyName("success")]
    public required bool Success { get; init; }

    [JsonPropertyName("start_ms")]
    public double StartMs { get; init; }

    [JsonPropertyName("ttft_ms")]
    public double TtftMs { get; init; }

    [JsonPropertyName("latency_ms")]
    public double LatencyMs { get; init; }

    [JsonPropertyName("itl_ms")]
    public IReadOnlyList<double> ChunkGapsMs { get; init; } = [];

    /// <summary>Prompt tokens: the server's <c>usage.prompt_tokens</c>, else the dataset's estimate.</summary>
    [JsonPropertyName("prompt_tokens")]
    public int PromptTokens { get; init; }

    /// <summary>Whether <see cref="PromptTokens"/> and <see cref="OutputTokens"/> came from the server's usage.</summary>
    [JsonPropertyName("usage_reported")]
    public bool UsageReported { get; init; }

    /// <summary>Output tokens: the server's <c>usage.completion_tokens</c>, else the number of content chunks.</summary>
    [JsonPropertyName("output_tokens")]
    public int OutputTokens { get; init; }

    /// <summary>Output tokens asked for (<c>max_tokens</c>).</summary>
    [JsonPropertyName("max_tokens")]
    public int MaxTokens { get; init; }

    /// <summary>The response's <c>X-Cache</c> header (a caching gateway's HIT or MISS), if any.</summary>
    [JsonPropertyName("cache")]
    public string? Cache { get; init; }

    [JsonPropertyName("error")]
    public string? Error { get; init; }

    /// <summary>Whether the request was streamed.</summary>
    [JsonPropertyName("stream")]
    public bool Stream { get; init; }

    /// <summary>
    /// Whether a streamed request's answer began (200 with its headers) before it ended: such a stream that failed was
    /// broken mid-way, where nothing could send it again; one that failed before it began could have been retried.
    /// </summary>
    [JsonPropertyName("stream_started")]
    public bool StreamStarted { get; init; }

    /// <summary>Time per output token after the first: (E2E − TTFT) / (output tokens − 1); null with fewer than two.</summary>
    [JsonIgnore]
    public double? TpotMs => Success && OutputTokens > 1 ? (LatencyMs - TtftMs) / (OutputTokens - 1) : null;
}
