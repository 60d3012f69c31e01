using System.Text.Json.Serialization;

namespace LlmAspire.OpenAIApi.Chat;

/// <summary>
/// What a chunk adds to a choice's message: <c>{"role":"assistant","content":""}</c> first, then <c>{"content":"…"}</c>,
/// <c>{"tool_calls":[…]}</c> for function calls, and <c>{}</c> on the chunk that carries the finish reason. Absent
/// fields are not written.
/// </summary>
public sealed record ChatDelta(
    [property: JsonPropertyName("role"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Role,
    [property: JsonPropertyName("content"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Content)
{
    /// <summary>The first delta of a choice.</summary>
    public static ChatDelta Start { get; } = new("assistant", "");

    /// <summary>The delta of a choice's finishing chunk.</summary>
    public static ChatDelta Empty { get; } = new(null, null);

    /// <summary>Pieces of function calls; null (not written) when the chunk has none.</summary>
    [JsonPropertyName("tool_calls")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<ChatToolCallDelta>? ToolCalls { get; init; }
}
