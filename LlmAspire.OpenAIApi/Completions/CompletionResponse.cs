using System.Text.Json.Serialization;

namespace LlmAspire.OpenAIApi.Completions;

/// <summary>
/// A <c>text_completion</c> object: the non-streamed answer, and each streamed chunk when the
/// client asked for <c>stream_options.include_usage</c> (then <c>usage</c> is null on every chunk but the usage chunk).
/// </summary>
public sealed record CompletionResponse(
    [property: JsonPropertyName("id"), JsonPropertyOrder(-2)] string Id,
    [property: JsonPropertyName("created")] long Created,
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("choices")] IReadOnlyList<CompletionChoice> Choices,
    [property: JsonPropertyName("usage")] CompletionUsage? Usage)
{
    [JsonPropertyName("object")]
    [JsonPropertyOrder(-1)]
    public string Object => "text_completion";
}
