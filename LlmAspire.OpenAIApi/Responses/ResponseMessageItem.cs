using System.Text.Json.Serialization;

namespace LlmAspire.OpenAIApi.Responses;

/// <summary>An assistant <c>message</c> output item: its text as one <c>output_text</c> part.</summary>
public sealed record ResponseMessageItem(
    string Id,
    string Status,
    [property: JsonPropertyName("content")] IReadOnlyList<ResponseOutputText> Content) : ResponseOutputItem(Id, Status)
{
    [JsonPropertyName("role")]
    public string Role => "assistant";
}
