namespace LlmAspire.Inference.Tokenization;

/// <summary>One turn of a chat: <see cref="Role"/> is "system", "user" or "assistant".</summary>
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

    /// <summary>A system message.</summary>
    public static ChatMessage System(string content) => new(SystemRole, content);

    /// <summary>A user message.</summary>
    public static ChatMessage User(string content) => new(UserRole, content);

    /// <summary>An assistant message.</summary>
    public static ChatMessage Assistant(string content) => new(AssistantRole, content);
}
