namespace LlmAspire.Inference.Engine;

/// <summary>
/// A piece of generated text. <see cref="FinishReason"/> is null on every update but the last;
/// the last update may carry empty text.
/// </summary>
/// <param name="Text">Newly decoded text (never a broken UTF-8 sequence).</param>
/// <param name="CompletionTokens">Tokens generated so far.</param>
/// <param name="FinishReason">Set on the final update only.</param>
public sealed record GenerationUpdate(string Text, int CompletionTokens, FinishReason? FinishReason);
