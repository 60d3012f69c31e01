using System.Text.Json.Serialization;

namespace LlmAspire.OpenAIApi.Responses;

/// <summary><c>response.function_call_arguments.done</c>: a call's arguments are whole.</summary>
public sealed record ResponseFunctionCallArgumentsDoneEvent(
    [property: JsonPropertyName("sequence_number")] int SequenceNumber,
    [property: JsonPropertyName("item_id")] string ItemId,
    [property: JsonPropertyName("output_index")] int OutputIndex,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("arguments")] string Arguments)
{
    public const string EventType = "response.function_call_arguments.done";

    [JsonPropertyName("type")]
    [JsonPropertyOrder(-1)]
    public string Type => EventType;
}
