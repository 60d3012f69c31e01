using System.Text.Json.Serialization;

namespace LlmAspire.OpenAIApi.Completions;

/// <summary>A streamed <c>text_completion</c> chunk when no usage was asked for: OpenAI then sends no <c>usage</c> field at all.</summary>
public sealed record CompletionChunk(
    [property: JsonPropertyName("id"), JsonPropertyOrder(-2)] string Id,
    [property: JsonPropertyName("created")] long Created,
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("choices")] IReadOnlyList<CompletionChoice> Choices)
{
    [JsonPropertyName("object")]
    [JsonPropertyOrder(-1)]
    public string Object => "text_completion";
}
