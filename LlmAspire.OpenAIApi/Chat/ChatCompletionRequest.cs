using System.Text.Json;
using System.Text.Json.Serialization;

namespace LlmAspire.OpenAIApi.Chat;

/// <summary>
/// The body of <c>POST /v1/chat/completions</c>: the shared fields of <see cref="SamplingRequest"/>, messages, logprobs,
/// tools and response format. Tools and structured output are refused rather than ignored; other fields the server
/// does not implement (<c>user</c>, <c>metadata</c>, ...) are accepted and ignored.
/// </summary>
public sealed record ChatCompletionRequest : SamplingRequest
{
    /// <summary>An array of <c>{"role", "content"}</c>; content is a string or an array of text parts.</summary>
    [JsonPropertyName("messages")]
    public JsonElement? Messages { get; init; }

    /// <summary>The completion budget, preferred over the deprecated <see cref="SamplingRequest.MaxTokens"/>.</summary>
    [JsonPropertyName("max_completion_tokens")]
    public int? MaxCompletionTokens { get; init; }

    [JsonPropertyName("logprobs")]
    public bool? Logprobs { get; init; }

    /// <summary>Alternatives per token (0-20); needs <see cref="Logprobs"/>.</summary>
    [JsonPropertyName("top_logprobs")]
    public int? TopLogprobs { get; init; }

    /// <summary>Function calling is not implemented: a non-empty array is refused.</summary>
    [JsonPropertyName("tools")]
    public JsonElement? Tools { get; init; }

    /// <summary>Only <c>{"type":"text"}</c> is implemented.</summary>
    [JsonPropertyName("response_format")]
    public JsonElement? ResponseFormat { get; init; }
}
