namespace LlmAspire.Inference.Tools;

/// <summary>What a piece of an assistant's output adds to its message, as <see cref="ChatOutputParser"/> reads it.</summary>
public abstract record ChatOutputEvent;

/// <summary>Text of the message's content.</summary>
public sealed record ContentDelta(string Text) : ChatOutputEvent;

/// <summary>A function call begins: its index among the message's calls, its id and the function's name.</summary>
public sealed record ToolCallStarted(int Index, string Id, string Name) : ChatOutputEvent;

/// <summary>More of call <see cref="Index"/>'s arguments (JSON text; the deltas of one call concatenate to its arguments).</summary>
public sealed record ToolCallArgumentsDelta(int Index, string Arguments) : ChatOutputEvent;
