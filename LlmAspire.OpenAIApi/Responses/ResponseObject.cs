using System.Text.Json;
using System.Text.Json.Serialization;

namespace LlmAspire.OpenAIApi.Responses;

/// <summary>
/// OpenAI's <c>response</c> object: the answer of <c>POST /v1/responses</c>, and the payload of the stream's
/// lifecycle events. The request's parameters are echoed as OpenAI echoes them; <c>usage</c> is null until it ends.
/// </summary>
public sealed record ResponseObject(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("created_at")] long CreatedAt,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("incomplete_details")] ResponseIncompleteDetails? IncompleteDetails,
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("output")] IReadOnlyList<ResponseOutputItem> Output,
    [property: JsonPropertyName("usage")] ResponseUsage? Usage,
    [property: JsonPropertyName("instructions")] string? Instructions,
    [property: JsonPropertyName("tools")] JsonElement Tools,
    [property: JsonPropertyName("tool_choice")] JsonElement ToolChoice,
    [property: JsonPropertyName("parallel_tool_calls")] bool ParallelToolCalls,
    [property: JsonPropertyName("temperature")] double Temperature,
    [property: JsonPropertyName("top_p")] double TopP,
    [property: JsonPropertyName("max_output_tokens")] int? MaxOutputTokens,
    [property: JsonPropertyName("text")] ResponseTextConfig Text,
    [property: JsonPropertyName("store")] bool Store,
    [property: JsonPropertyName("metadata")] JsonElement Metadata,
    [property: JsonPropertyName("user")] string? User)
{
    [JsonPropertyName("object")]
    [JsonPropertyOrder(-1)]
    public string Object => "response";

    /// <summary>Always null: a failed generation is answered as an error, never as a <c>failed</c> response.</summary>
    [JsonPropertyName("error")]
    public object? Error => null;

    /// <summary>Always null: the model server keeps no responses (the gateway refuses or resolves the field first).</summary>
    [JsonPropertyName("previous_response_id")]
    public string? PreviousResponseId => null;

    [JsonPropertyName("background")]
    public bool Background => false;

    [JsonPropertyName("reasoning")]
    public object? Reasoning => null;

    [JsonPropertyName("truncation")]
    public string Truncation => "disabled";

    [JsonPropertyName("service_tier")]
    public string ServiceTier => "default";
}
