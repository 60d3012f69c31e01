namespace LlmAspire.ModelServer.Apis;

/// <summary>A <c>/v1/completions</c> request that passed the checks that need no model: defaults applied, ranges checked.</summary>
/// <param name="Sampling">The shared sampling and stopping settings.</param>
/// <param name="Prompt">The prompt: text, or token ids.</param>
/// <param name="MaxTokens">The completion budget per choice.</param>
/// <param name="Logprobs">Alternatives per token to return with log-probabilities (0-5); null for none.</param>
internal sealed record CompletionSettings(SamplingSettings Sampling, CompletionPrompt Prompt, int MaxTokens, int? Logprobs);
