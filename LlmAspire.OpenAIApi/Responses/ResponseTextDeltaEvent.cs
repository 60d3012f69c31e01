using System.Text.Json;
using System.Text.Json.Serialization;

namespace LlmAspire.OpenAIApi.Responses;

/// <summary><c>response.output_text.delta</c>: more text of a message item's part; the deltas concatenate to its text.</summary>
public sealed record ResponseTextDeltaEvent(
    [property: JsonPropertyName("sequence_number")] int SequenceNumber,
    [property: JsonPropertyName("item_id")] string ItemId,
    [property: JsonPropertyName("output_index")] int OutputIndex,
    [property: JsonPropertyName("content_index")] int ContentIndex,
    [property: JsonPropertyName("delta")] string Delta)
{
    public const string EventType = "response.output_text.delta";

    [JsonPropertyName("type")]
    [JsonPropertyOrder(-1)]
    public string Type => EventType;

    [JsonPropertyName("logprobs")]
    public IReadOnlyList<JsonElement> Logprobs => [];
}
