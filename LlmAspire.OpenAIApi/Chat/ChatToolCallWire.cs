using System.Text.Json.Serialization;

namespace LlmAspire.OpenAIApi.Chat;

/// <summary>A function call of an assistant message: <c>{"id","type":"function","function":{"name","arguments"}}</c>.</summary>
public sealed record ChatToolCallWire(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("function")] ChatFunctionCallWire Function)
{
    [JsonPropertyName("type")]
    [JsonPropertyOrder(-1)]
    public string Type => "function";
}

/// <summary>The function a call names and its arguments as JSON text; in a stream's deltas either may be absent.</summary>
public sealed record ChatFunctionCallWire(
    [property: JsonPropertyName("name"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Name,
    [property: JsonPropertyName("arguments"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Arguments);

/// <summary>
/// A piece of a streamed call, as OpenAI sends it: the first piece of call <see cref="Index"/> has its id, type and
/// name (and empty arguments), later pieces only arguments.
/// </summary>
public sealed record ChatToolCallDelta(
    [property: JsonPropertyName("index")] int Index,
    [property: JsonPropertyName("id"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Id,
    [property: JsonPropertyName("type"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Type,
    [property: JsonPropertyName("function")] ChatFunctionCallWire Function);
