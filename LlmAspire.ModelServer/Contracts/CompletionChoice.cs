using System.Text.Json;
using System.Text.Json.Serialization;

namespace LlmAspire.ModelServer.Contracts;

/// <summary>One choice; <c>finish_reason</c> is <c>"stop"</c>, <c>"length"</c>, or null on all but the last streamed chunk.</summary>
internal sealed record CompletionChoice(
    [property: JsonPropertyName("text")] string Text,
    [property: JsonPropertyName("index")] int Index,
    [property: JsonPropertyName("finish_reason"), JsonPropertyOrder(2)] string? FinishReason)
{
    /// <summary>Log probabilities are not implemented: always null.</summary>
    [JsonPropertyName("logprobs")]
    [JsonPropertyOrder(1)]
    public JsonElement? Logprobs => null;
}
