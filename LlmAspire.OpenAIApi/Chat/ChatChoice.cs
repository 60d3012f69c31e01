using System.Text.Json.Serialization;

namespace LlmAspire.OpenAIApi.Chat;

/// <summary>One choice of a <c>chat.completion</c>.</summary>
public sealed record ChatChoice(
    [property: JsonPropertyName("index")] int Index,
    [property: JsonPropertyName("message")] ChatResponseMessage Message,
    [property: JsonPropertyName("logprobs")] ChatLogprobs? Logprobs,
    [property: JsonPropertyName("finish_reason")] string FinishReason);
