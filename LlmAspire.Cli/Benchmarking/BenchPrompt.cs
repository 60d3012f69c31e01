namespace LlmAspire.Cli.Benchmarking;

/// <summary>One request of a workload: the prompt, its estimated length in tokens, and the output tokens to ask for.</summary>
public sealed record BenchPrompt(string Text, int EstimatedInputTokens, int MaxTokens, int Group = 0);
