using System.Text.Json;
using System.Text.Json.Serialization;

namespace LlmAspire.ModelServer.Contracts;

/// <summary>
/// The body of <c>POST /v1/completions</c>. Fields the model server does not implement (<c>user</c>,
/// <c>suffix</c>, ...) are accepted and ignored, as OpenAI-compatible servers do.
/// </summary>
internal sealed record CompletionRequest : ISamplingRequest
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

    [JsonPropertyName("top_k")]
    public int? TopK { get; init; }

    [JsonPropertyName("min_p")]
    public double? MinP { get; init; }

    [JsonPropertyName("n")]
    public int? N { get; init; }

    [JsonPropertyName("seed")]
    public long? Seed { get; init; }

    [JsonPropertyName("presence_penalty")]
    public double? PresencePenalty { get; init; }

    [JsonPropertyName("frequency_penalty")]
    public double? FrequencyPenalty { get; init; }

    [JsonPropertyName("repetition_penalty")]
    public double? RepetitionPenalty { get; init; }

    [JsonPropertyName("logit_bias")]
    public JsonElement? LogitBias { get; init; }

    /// <summary>The legacy integer: log-probabilities of the chosen token and this many alternatives (0-5).</summary>
    [JsonPropertyName("logprobs")]
    public int? Logprobs { get; init; }

    /// <summary>Echoing the prompt back is not implemented: true is refused rather than ignored.</summary>
    [JsonPropertyName("echo")]
    public bool? Echo { get; init; }

    [JsonPropertyName("stop")]
    public JsonElement? Stop { get; init; }

    [JsonPropertyName("stream")]
    public bool? Stream { get; init; }

    [JsonPropertyName("stream_options")]
    public StreamOptions? StreamOptions { get; init; }
}
