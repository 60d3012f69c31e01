namespace LlmAspire.Inference.Tools;

/// <summary>OpenAI's <c>tool_choice</c>: <c>none</c>, <c>auto</c>, <c>required</c> or one named function.</summary>
public sealed record ToolChoice(ToolChoiceMode Mode, string? Function = null)
{
    public static ToolChoice None { get; } = new(ToolChoiceMode.None);

    public static ToolChoice Auto { get; } = new(ToolChoiceMode.Auto);

    public static ToolChoice Required { get; } = new(ToolChoiceMode.Required);

    public static ToolChoice Named(string function) => new(ToolChoiceMode.Function, function);
}

/// <summary>The kinds of <see cref="ToolChoice"/>.</summary>
public enum ToolChoiceMode
{
    /// <summary>The model answers in text; tools are still described to it.</summary>
    None,

    /// <summary>The model chooses between text and calls.</summary>
    Auto,

    /// <summary>The model must call one or more functions.</summary>
    Required,

    /// <summary>The model must call <see cref="ToolChoice.Function"/>.</summary>
    Function,
}
