namespace LlmAspire.Inference.Engine;

/// <summary>One generation: the tokenized prompt (BOS included) and how to sample the continuation.</summary>
/// <param name="PromptTokens">Prompt token ids, starting with BOS.</param>
/// <param name="MaxTokens">Upper bound on generated tokens.</param>
/// <param name="Temperature">0 is greedy.</param>
/// <param name="TopP">Nucleus sampling mass in (0, 1].</param>
/// <param name="Seed">Seed for sampling; null draws one.</param>
/// <param name="Stop">Strings that end the generation; they are not part of the output.</param>
public sealed record GenerationRequest(
    IReadOnlyList<int> PromptTokens,
    int MaxTokens,
    float Temperature = 1f,
    float TopP = 1f,
    long? Seed = null,
    IReadOnlyList<string>? Stop = null);
