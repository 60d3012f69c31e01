using System.Text.Json.Serialization;

namespace LlmAspire.OpenAIApi.Completions;

/// <summary>One choice; <c>finish_reason</c> is <c>"stop"</c>, <c>"length"</c>, or null on all but the choice's last streamed chunk.</summary>
public sealed record CompletionChoice(
    [property: JsonPropertyName("text")] string Text,
    [property: JsonPropertyName("index")] int Index,
    [property: JsonPropertyName("logprobs")] CompletionLogprobs? Logprobs,
    [property: JsonPropertyName("finish_reason")] string? FinishReason);
