using System.Text.Json;
using System.Text.Json.Serialization;

namespace LlmAspire.OpenAIApi.Chat;

/// <summary>
/// The body of <c>POST /v1/chat/completions</c>: the shared fields of <see cref="SamplingRequest"/>, messages, logprobs,
/// tools and response format. Fields the server does not implement (<c>user</c>, <c>metadata</c>, ...) are accepted and
/// ignored.
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

    /// <summary>Functions the model may call: <c>[{"type":"function","function":{"name","description","parameters","strict"}}]</c>.</summary>
    [JsonPropertyName("tools")]
    public JsonElement? Tools { get; init; }

    /// <summary><c>none</c>, <c>auto</c>, <c>required</c> or <c>{"type":"function","function":{"name"}}</c>.</summary>
    [JsonPropertyName("tool_choice")]
    public JsonElement? ToolChoice { get; init; }

    /// <summary>Whether one answer may call several functions (default true).</summary>
    [JsonPropertyName("parallel_tool_calls")]
    public bool? ParallelToolCalls { get; init; }

    /// <summary><c>text</c>, <c>json_object</c> or <c>json_schema</c>.</summary>
    [JsonPropertyName("response_format")]
    public JsonElement? ResponseFormat { get; init; }
}
