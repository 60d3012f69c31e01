using System.Text.Json.Serialization;

namespace LlmAspire.OpenAIApi.Chat;

/// <summary>
/// What a chunk adds to a choice's message: <c>{"role":"assistant","content":""}</c> first, then <c>{"content":"…"}</c>,
/// and <c>{}</c> on the chunk that carries the finish reason. Absent fields are not written.
/// </summary>
public sealed record ChatDelta(
    [property: JsonPropertyName("role"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Role,
    [property: JsonPropertyName("content"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Content)
{
    /// <summary>The first delta of a choice.</summary>
    public static ChatDelta Start { get; } = new("assistant", "");

    /// <summary>The delta of a choice's finishing chunk.</summary>
    public static ChatDelta Empty { get; } = new(null, null);
}
