using LlmAspire.Inference.Tokenization;
using LlmAspire.Inference.Tools;

namespace LlmAspire.ModelServer.Apis;

/// <summary>A <c>/v1/chat/completions</c> request that passed the checks that need no model.</summary>
/// <param name="Sampling">The shared sampling and stopping settings.</param>
/// <param name="Messages">The conversation, text only.</param>
/// <param name="MaxTokens">The completion budget per choice; null for what the context leaves after the prompt.</param>
/// <param name="MaxTokensParam">The parameter the budget came from: <c>max_completion_tokens</c> or <c>max_tokens</c>.</param>
/// <param name="Logprobs">Whether to return each token's log-probability.</param>
/// <param name="TopLogprobs">Alternatives per token (0-20).</param>
internal sealed record ChatSettings(
    SamplingSettings Sampling,
    IReadOnlyList<ChatMessage> Messages,
    int? MaxTokens,
    string MaxTokensParam,
    bool Logprobs,
    int TopLogprobs)
{
    /// <summary>The functions the model may call (empty: none).</summary>
    public IReadOnlyList<ChatTool> Tools { get; init; } = [];

    /// <summary>Whether and how the model must call them.</summary>
    public ToolChoice ToolChoice { get; init; } = ToolChoice.Auto;

    /// <summary>Whether one answer may hold several calls.</summary>
    public bool ParallelToolCalls { get; init; } = true;
}
