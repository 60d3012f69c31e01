namespace LlmAspire.Cli.Benchmarking;

/// <summary>What <see cref="CompressionBench"/> measures and how long.</summary>
/// <param name="DecodeTokens">Decode steps timed per variant and round (1 stream), and tokens per stream with several.</param>
/// <param name="Rounds">Timed rounds, the variants taking turns.</param>
/// <param name="AgreementTokens">Greedy tokens per prompt for the agreement columns.</param>
/// <param name="Streams">Concurrent streams through the engine for the batched decode column; 0 leaves it out.</param>
/// <param name="PrefillTokens">Prompt length of the prefill column; 0 leaves it out.</param>
/// <param name="CalibrationFile">Calibration text of pruning and of the -awq/-gptq quantizations; null for the built-in sample.</param>
internal sealed record CompressionSettings(int DecodeTokens, int Rounds, int AgreementTokens, int Streams, int PrefillTokens, string? CalibrationFile);
