using System.Text.Json;
using System.Text.Json.Serialization;

namespace LlmAspire.ModelServer.Contracts;

/// <summary>
/// The body of <c>POST /v1/chat/completions</c>. Tools and structured output are refused rather than ignored;
/// other fields the server does not implement (<c>user</c>, <c>metadata</c>, ...) are accepted and ignored.
/// </summary>
internal sealed record ChatCompletionRequest : ISamplingRequest
{
    [JsonPropertyName("model")]
    public string? Model { get; init; }

    /// <summary>An array of <c>{"role", "content"}</c>; content is a string or an array of text parts.</summary>
    [JsonPropertyName("messages")]
    public JsonElement? Messages { get; init; }

    /// <summary>Deprecated by OpenAI in favour of <see cref="MaxCompletionTokens"/>, still honoured.</summary>
    [JsonPropertyName("max_tokens")]
    public int? MaxTokens { get; init; }

    [JsonPropertyName("max_completion_tokens")]
    public int? MaxCompletionTokens { get; init; }

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

    [JsonPropertyName("logprobs")]
    public bool? Logprobs { get; init; }

    /// <summary>Alternatives per token (0-20); needs <see cref="Logprobs"/>.</summary>
    [JsonPropertyName("top_logprobs")]
    public int? TopLogprobs { get; init; }

    [JsonPropertyName("stop")]
    public JsonElement? Stop { get; init; }

    [JsonPropertyName("stream")]
    public bool? Stream { get; init; }

    [JsonPropertyName("stream_options")]
    public StreamOptions? StreamOptions { get; init; }

    /// <summary>Function calling is not implemented: a non-empty array is refused.</summary>
    [JsonPropertyName("tools")]
    public JsonElement? Tools { get; init; }

    /// <summary>Only <c>{"type":"text"}</c> is implemented.</summary>
    [JsonPropertyName("response_format")]
    public JsonElement? ResponseFormat { get; init; }
}
