using System.Text.Json.Serialization;

namespace LlmAspire.OpenAIApi.Chat;

/// <summary>A chat choice's <c>logprobs</c>: one entry per generated token; <c>refusal</c> is always null.</summary>
public sealed record ChatLogprobs(
    [property: JsonPropertyName("content")] IReadOnlyList<ChatTokenLogprob> Content)
{
    [JsonPropertyName("refusal")]
    public IReadOnlyList<ChatTokenLogprob>? Refusal => null;
}
