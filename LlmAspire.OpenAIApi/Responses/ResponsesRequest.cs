using System.Text.Json;
using System.Text.Json.Serialization;

namespace LlmAspire.OpenAIApi.Responses;

/// <summary>
/// The body of <c>POST /v1/responses</c> (OpenAI's Responses API) as the model server serves it, statelessly: the
/// sampling fields it shares with chat (<see cref="SamplingRequest"/>, so vLLM's extensions work here too), the
/// input items, instructions, function tools, text format and output budget. The stateful fields
/// (<c>previous_response_id</c>, <c>conversation</c>, <c>background</c>) are read so they can be refused by name;
/// <c>store</c>, <c>metadata</c>, <c>user</c>, <c>truncation</c>, <c>reasoning</c> and <c>include</c> are accepted and
/// ignored (storing is the gateway's).
/// </summary>
public sealed record ResponsesRequest : SamplingRequest
{
    /// <summary>A string (one user message) or an array of message, <c>function_call</c> and <c>function_call_output</c> items.</summary>
    [JsonPropertyName("input")]
    public JsonElement? Input { get; init; }

    /// <summary>A system message placed before the input.</summary>
    [JsonPropertyName("instructions")]
    public JsonElement? Instructions { get; init; }

    [JsonPropertyName("max_output_tokens")]
    public int? MaxOutputTokens { get; init; }

    /// <summary>Function tools in the Responses shape <c>{"type":"function","name",...}</c>; other tool types are refused.</summary>
    [JsonPropertyName("tools")]
    public JsonElement? Tools { get; init; }

    /// <summary><c>none</c>, <c>auto</c>, <c>required</c> or <c>{"type":"function","name"}</c>.</summary>
    [JsonPropertyName("tool_choice")]
    public JsonElement? ToolChoice { get; init; }

    [JsonPropertyName("parallel_tool_calls")]
    public bool? ParallelToolCalls { get; init; }

    /// <summary><c>{"format":{"type":"text"|"json_object"|"json_schema",...}}</c>.</summary>
    [JsonPropertyName("text")]
    public JsonElement? Text { get; init; }

    [JsonPropertyName("store")]
    public bool? Store { get; init; }

    [JsonPropertyName("previous_response_id")]
    public JsonElement? PreviousResponseId { get; init; }

    [JsonPropertyName("conversation")]
    public JsonElement? Conversation { get; init; }

    [JsonPropertyName("background")]
    public bool? Background { get; init; }

    [JsonPropertyName("metadata")]
    public JsonElement? Metadata { get; init; }

    [JsonPropertyName("user")]
    public string? User { get; init; }
}
