using System.Text.Json.Serialization;

namespace LlmAspire.OpenAIApi.Chat;

/// <summary>The assistant's message; <c>refusal</c> is always null (the server never refuses).</summary>
public sealed record ChatResponseMessage(
    [property: JsonPropertyName("content")] string Content)
{
    [JsonPropertyName("role")]
    [JsonPropertyOrder(-1)]
    public string Role => "assistant";

    [JsonPropertyName("refusal")]
    public string? Refusal => null;
}
