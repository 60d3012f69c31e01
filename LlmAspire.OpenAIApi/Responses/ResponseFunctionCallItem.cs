using System.Text.Json.Serialization;

namespace LlmAspire.OpenAIApi.Responses;

/// <summary>A <c>function_call</c> output item: <c>call_id</c> is what the <c>function_call_output</c> answering it repeats.</summary>
public sealed record ResponseFunctionCallItem(
    string Id,
    string Status,
    [property: JsonPropertyName("call_id")] string CallId,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("arguments")] string Arguments) : ResponseOutputItem(Id, Status);
