using System.Text.Json.Serialization;

namespace LlmAspire.OpenAIApi.Responses;

/// <summary>
/// A streamed event that carries the whole response: <c>response.created</c>, <c>response.in_progress</c>,
/// <c>response.completed</c> or <c>response.incomplete</c>.
/// </summary>
public sealed record ResponseLifecycleEvent(
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("sequence_number")] int SequenceNumber,
    [property: JsonPropertyName("response")] ResponseObject Response);
