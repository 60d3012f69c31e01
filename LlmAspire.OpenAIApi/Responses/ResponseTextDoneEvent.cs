using System.Text.Json;
using System.Text.Json.Serialization;

namespace LlmAspire.OpenAIApi.Responses;

/// <summary><c>response.output_text.done</c>: a message item's part is whole.</summary>
public sealed record ResponseTextDoneEvent(
    [property: JsonPropertyName("sequence_number")] int SequenceNumber,
    [property: JsonPropertyName("item_id")] string ItemId,
    [property: JsonPropertyName("output_index")] int OutputIndex,
    [property: JsonPropertyName("content_index")] int ContentIndex,
    [property: JsonPropertyName("text")] string Text)
{
    public const string EventType = "response.output_text.done";

    [JsonPropertyName("type")]
    [JsonPropertyOrder(-1)]
    public string Type => EventType;

    [JsonPropertyName("logprobs")]
    public IReadOnlyList<JsonElement> Logprobs => [];
}
