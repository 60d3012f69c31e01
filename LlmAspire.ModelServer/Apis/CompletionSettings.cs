namespace LlmAspire.ModelServer.Apis;

/// <summary>A <c>/v1/completions</c> request that passed the checks that need no model: defaults applied, ranges checked.</summary>
internal sealed record CompletionSettings(
    string? Model,
    string Prompt,
    int MaxTokens,
    float Temperature,
    float TopP,
    long? Seed,
    IReadOnlyList<string> Stop,
    bool Stream,
    bool IncludeUsage);
