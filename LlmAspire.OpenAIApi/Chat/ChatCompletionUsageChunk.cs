using System.Text.Json.Serialization;

namespace LlmAspire.OpenAIApi.Chat;

/// <summary>
/// A streamed <c>chat.completion.chunk</c> when the client asked for <c>stream_options.include_usage</c>:
/// <c>usage</c> is null on every chunk but the last, which has empty <c>choices</c>.
/// </summary>
public sealed record ChatCompletionUsageChunk(
    [property: JsonPropertyName("id"), JsonPropertyOrder(-2)] string Id,
    [property: JsonPropertyName("created")] long Created,
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("choices")] IReadOnlyList<ChatChunkChoice> Choices,
    [property: JsonPropertyName("usage")] CompletionUsage? Usage)
{
    [JsonPropertyName("object")]
    [JsonPropertyOrder(-1)]
    public string Object => "chat.completion.chunk";
}
