using System.Text.Json.Serialization;

namespace LlmAspire.OpenAIApi.Chat;

/// <summary>
/// The assistant's message: its text (null when it only calls functions), its function calls (absent when none) and
/// <c>refusal</c>, always null (the server never refuses).
/// </summary>
public sealed record ChatResponseMessage(
    [property: JsonPropertyName("content")] string? Content)
{
    [JsonPropertyName("role")]
    [JsonPropertyOrder(-1)]
    public string Role => "assistant";

    [JsonPropertyName("refusal")]
    public string? Refusal => null;

    /// <summary>The function calls; null (not written) when there are none.</summary>
    [JsonPropertyName("tool_calls")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<ChatToolCallWire>? ToolCalls { get; init; }
}
