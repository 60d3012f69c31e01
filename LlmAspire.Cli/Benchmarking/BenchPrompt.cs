namespace LlmAspire.Cli.Benchmarking;

/// <summary>
/// One request of a workload: the prompt, its estimated length in tokens, the output tokens to ask for, and whether it is
/// streamed (null: as the client is set up; set per prompt for a mix, <see cref="StreamMix"/>).
/// </summary>
public sealed record BenchPrompt(string Text, int EstimatedInputTokens, int MaxTokens, int Group = 0, bool? Stream = null);
