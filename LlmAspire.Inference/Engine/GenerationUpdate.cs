namespace LlmAspire.Inference.Engine;

/// <summary>
/// A piece of generated text for one choice. <see cref="FinishReason"/> is null on every update of a choice
/// but its last; the last update may carry empty text.
/// </summary>
/// <param name="Text">Newly decoded text (never a broken UTF-8 sequence).</param>
/// <param name="CompletionTokens">Tokens this choice has generated so far.</param>
/// <param name="FinishReason">Set on the choice's final update only.</param>
public sealed record GenerationUpdate(string Text, int CompletionTokens, FinishReason? FinishReason)
{
    /// <summary>Which of the request's <see cref="GenerationRequest.N"/> choices this update belongs to.</summary>
    public int Index { get; init; }

    /// <summary>Prompt tokens whose KV was reused rather than computed (prefix cache hits).</summary>
    public int CachedTokens { get; init; }

    /// <summary>How long the request waited for its KV rows, measured by the engine.</summary>
    public TimeSpan QueueTime { get; init; }

    /// <summary>From submission to this choice's first token, measured by the engine.</summary>
    public TimeSpan TimeToFirstToken { get; init; }

    /// <summary>The tokens behind <see cref="Text"/> with their log-probabilities, when requested.</summary>
    public IReadOnlyList<TokenLogprob>? Logprobs { get; init; }

    /// <summary>On a choice's last update: every token id it generated, the one that stopped it included; else null.</summary>
    public IReadOnlyList<int>? TokenIds { get; init; }
}
