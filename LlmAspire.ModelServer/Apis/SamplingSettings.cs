using LlmAspire.Inference.Engine;

namespace LlmAspire.ModelServer.Apis;

/// <summary>The sampling and stopping settings of a request that passed the checks needing no model, with defaults applied.</summary>
internal sealed record SamplingSettings(
    string? Model,
    float Temperature,
    float TopP,
    int TopK,
    float MinP,
    long? Seed,
    float PresencePenalty,
    float FrequencyPenalty,
    float RepetitionPenalty,
    IReadOnlyDictionary<int, float>? LogitBias,
    IReadOnlyList<string> Stop,
    int N,
    bool Stream,
    bool IncludeUsage)
{
    /// <summary>What the output must match (response_format, guided_*), or null for free text.</summary>
    public RequestedConstraint? Constraint { get; init; }

    /// <summary>The engine request for <paramref name="promptTokens"/>; a non-streamed one takes each choice's output in one update (<see cref="GenerationRequest.FinalOnly"/>).</summary>
    public GenerationRequest ToGenerationRequest(int[] promptTokens, int maxTokens, IReadOnlyList<string>? extraStop = null) =>
        new(promptTokens, maxTokens, Temperature, TopP, Seed, extraStop is { Count: > 0 } ? [.. Stop, .. extraStop] : Stop)
        {
            TopK = TopK,
            MinP = MinP,
            PresencePenalty = PresencePenalty,
            FrequencyPenalty = FrequencyPenalty,
            RepetitionPenalty = RepetitionPenalty,
            LogitBias = LogitBias,
            N = N,
            FinalOnly = !Stream,
        };
}
