using System.Text.Json.Serialization;

namespace LlmAspire.OpenAIApi.Completions;

/// <summary><c>stream_options</c>: with <c>include_usage</c> a usage chunk with empty choices precedes <c>[DONE]</c>.</summary>
public sealed record StreamOptions
{
    [JsonPropertyName("include_usage")]
    public bool? IncludeUsage { get; init; }
}
