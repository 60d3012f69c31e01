using System.Text.Json.Serialization;

namespace LlmAspire.OpenAIApi.Responses;

/// <summary><c>response.output_item.added</c> (the item in progress, empty) or <c>response.output_item.done</c> (the item whole).</summary>
public sealed record ResponseOutputItemEvent(
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("sequence_number")] int SequenceNumber,
    [property: JsonPropertyName("output_index")] int OutputIndex,
    [property: JsonPropertyName("item")] ResponseOutputItem Item);
