using System.Text.Json.Serialization;

namespace LlmAspire.OpenAIApi.Responses;

/// <summary>The <c>error</c> event that ends a stream whose generation failed after it began.</summary>
public sealed record ResponseErrorEvent(
    [property: JsonPropertyName("sequence_number")] int SequenceNumber,
    [property: JsonPropertyName("code")] string? Code,
    [property: JsonPropertyName("message")] string Message,
    [property: JsonPropertyName("param")] string? Param)
{
    public const string EventType = "error";

    [JsonPropertyName("type")]
    [JsonPropertyOrder(-1)]
    public string Type => EventType;
}
