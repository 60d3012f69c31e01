namespace LlmAspire.ModelServer.Apis;

/// <summary>A completion's prompt: text the model's tokenizer encodes (with BOS), or token ids used as given.</summary>
/// <param name="Text">The prompt text, or null.</param>
/// <param name="TokenIds">The prompt's token ids, or null.</param>
internal sealed record CompletionPrompt(string? Text, int[]? TokenIds);
