namespace LlmAspire.Inference.Tokenization;

/// <summary>
/// One turn of a chat: <see cref="Role"/> is "system", "user", "assistant" or "tool". An assistant turn may carry
/// <see cref="ToolCalls"/> (its <see cref="Content"/> is then often empty); a tool turn answers one call
/// (<see cref="ToolCallId"/>, and the function's <see cref="Name"/> where known).
/// </summary>
/// <param name="Role">Who speaks.</param>
/// <param name="Content">What is said.</param>
public sealed record ChatMessage(string Role, string Content)
{
    /// <summary>The system role.</summary>
    public const string SystemRole = "system";

    /// <summary>The user role.</summary>
    public const string UserRole = "user";

    /// <summary>The assistant role.</summary>
    public const string AssistantRole = "assistant";

    /// <summary>The role of a tool's result.</summary>
    public const string ToolRole = "tool";

    /// <summary>The function calls of an assistant turn, or null.</summary>
    public IReadOnlyList<ChatToolCall>? ToolCalls { get; init; }

    /// <summary>The call a tool turn answers, or null.</summary>
    public string? ToolCallId { get; init; }

    /// <summary>The function a tool turn answers (OpenAI's optional <c>name</c>), or null.</summary>
    public string? Name { get; init; }

    /// <summary>A system message.</summary>
    public static ChatMessage System(string content) => new(SystemRole, content);

    /// <summary>A user message.</summary>
    public static ChatMessage User(string content) => new(UserRole, content);

    /// <summary>An assistant message.</summary>
    public static ChatMessage Assistant(string content) => new(AssistantRole, content);

    /// <summary>An assistant message that calls functions.</summary>
    public static ChatMessage AssistantCalls(IReadOnlyList<ChatToolCall> calls, string content = "") => new(AssistantRole, content) { ToolCalls = calls };

    /// <summary>A tool's result for the call <paramref name="toolCallId"/>.</summary>
    public static ChatMessage Tool(string toolCallId, string content, string? name = null) => new(ToolRole, content) { ToolCallId = toolCallId, Name = name };
}

/// <summary>One function call of an assistant turn.</summary>
/// <param name="Id">The call's id (<c>call_…</c>), which the tool turn answering it repeats.</param>
/// <param name="Name">The function's name.</param>
/// <param name="Arguments">The arguments as JSON text (an object), as OpenAI's <c>function.arguments</c> carries them.</param>
public sealed record ChatToolCall(string Id, string Name, string Arguments);

/// <summary>A function the model may call.</summary>
/// <param name="Name">The function's name (<c>^[a-zA-Z0-9_-]{1,64}$</c>).</param>
/// <param name="Description">What it does, or null.</param>
/// <param name="Parameters">Its parameters as JSON Schema text (an object schema); null for none.</param>
/// <param name="Strict">Whether the caller asked for strict schema adherence (we always constrain calls).</param>
public sealed record ChatTool(string Name, string? Description, string? Parameters, bool Strict = false);
