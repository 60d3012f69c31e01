namespace LlmAspire.Inference.Engine;

/// <summary>A generated token, its log-probability under the model, and the most likely alternatives.</summary>
/// <param name="TokenId">The token.</param>
/// <param name="Token">Its text (may be part of a UTF-8 sequence, as raw bytes decoded leniently).</param>
/// <param name="Bytes">Its raw bytes.</param>
/// <param name="Logprob">Natural log of its probability.</param>
/// <param name="TopLogprobs">The most likely tokens at that position, best first.</param>
public sealed record TokenLogprob(int TokenId, string Token, byte[] Bytes, float Logprob, IReadOnlyList<TokenLogprob> TopLogprobs);
