using System.Text.Json;

namespace LlmAspire.ModelServer.Contracts;

/// <summary>The sampling and stopping fields that <c>/v1/completions</c> and <c>/v1/chat/completions</c> share.</summary>
internal interface ISamplingRequest
{
    string? Model { get; }

    double? Temperature { get; }

    double? TopP { get; }

    /// <summary>vLLM's <c>top_k</c>: 0 or -1 keeps every token.</summary>
    int? TopK { get; }

    /// <summary>vLLM's <c>min_p</c>.</summary>
    double? MinP { get; }

    long? Seed { get; }

    double? PresencePenalty { get; }

    double? FrequencyPenalty { get; }

    /// <summary>vLLM's <c>repetition_penalty</c> (1 = off).</summary>
    double? RepetitionPenalty { get; }

    /// <summary>An object from token ids (as strings) to a bias in [-100, 100].</summary>
    JsonElement? LogitBias { get; }

    /// <summary>A string, or an array of up to four strings.</summary>
    JsonElement? Stop { get; }

    int? N { get; }

    bool? Stream { get; }

    StreamOptions? StreamOptions { get; }
}
