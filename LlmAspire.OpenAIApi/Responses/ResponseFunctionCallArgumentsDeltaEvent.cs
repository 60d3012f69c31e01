using System.Text.Json.Serialization;

namespace LlmAspire.OpenAIApi.Responses;

/// <summary><c>response.function_call_arguments.delta</c>: more of a call's arguments (JSON text).</summary>
public sealed record ResponseFunctionCallArgumentsDeltaEvent(
    [property: JsonPropertyName("sequence_number")] int SequenceNumber,
    [property: JsonPropertyName("item_id")] string ItemId,
    [property: JsonPropertyName("output_index")] int OutputIndex,
    [property: JsonPropertyName("delta")] string Delta)
{
    public const string EventType = "response.function_call_arguments.delta";

    [JsonPropertyName("type")]
    [JsonPropertyOrder(-1)]
    public string Type => EventType;
}
