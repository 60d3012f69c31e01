using System.Text.Json;
using System.Text.Json.Serialization;

namespace LlmAspire.ModelServer.Contracts;

/// <summary>
/// The body of <c>POST /v1/completions</c>. Fields that the model server does not implement
/// (echo, logprobs, penalties, user, ...) are accepted and ignored, as OpenAI-compatible servers do.
/// </summary>
internal sealed record CompletionRequest
{
    [JsonPropertyName("model")]
    public string? Model { get; init; }

    /// <summary>A string, or an array holding exactly one string.</summary>
    [JsonPropertyName("prompt")]
    public JsonElement? Prompt { get; init; }

    [JsonPropertyName("max_tokens")]
    public int? MaxTokens { get; init; }

    [JsonPropertyName("temperature")]
    public double? Temperature { get; init; }

    [JsonPropertyName("top_p")]
    public double? TopP { get; init; }

    [JsonPropertyName("n")]
    public int? N { get; init; }

    [JsonPropertyName("seed")]
    public long? Seed { get; init; }

    /// <summary>A string, or an array of up to four strings.</summary>
    [JsonPropertyName("stop")]
    public JsonElement? Stop { get; init; }

    [JsonPropertyName("stream")]
    public bool? Stream { get; init; }

    [JsonPropertyName("stream_options")]
    public StreamOptions? StreamOptions { get; init; }
}
