using System.Text.Json;
using System.Text.Json.Serialization;

namespace LlmAspire.OpenAIApi.Responses;

/// <summary>An <c>output_text</c> content part; there are never annotations or log-probabilities, so both are empty.</summary>
public sealed record ResponseOutputText(
    [property: JsonPropertyName("text")] string Text)
{
    [JsonPropertyName("type")]
    [JsonPropertyOrder(-1)]
    public string Type => "output_text";

    [JsonPropertyName("annotations")]
    public IReadOnlyList<JsonElement> Annotations => [];

    [JsonPropertyName("logprobs")]
    public IReadOnlyList<JsonElement> Logprobs => [];
}
