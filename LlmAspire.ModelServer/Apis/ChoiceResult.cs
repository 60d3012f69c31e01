using LlmAspire.Inference.Engine;

namespace LlmAspire.ModelServer.Apis;

/// <summary>One finished choice of a non-streamed request.</summary>
/// <param name="Text">The whole completion text.</param>
/// <param name="Logprobs">Its tokens with log-probabilities, when asked for.</param>
/// <param name="FinishReason"><c>stop</c> or <c>length</c>.</param>
internal sealed record ChoiceResult(string Text, IReadOnlyList<TokenLogprob>? Logprobs, string FinishReason);
