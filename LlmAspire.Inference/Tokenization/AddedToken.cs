namespace LlmAspire.Inference.Tokenization;

/// <summary>
/// An entry of <c>added_tokens</c> in a <c>tokenizer.json</c>: text that is split out of the input before BPE and
/// becomes exactly one id. <paramref name="Special"/> tokens (BOS, EOS, chat markers) are dropped by decoding.
/// </summary>
/// <param name="Id">The token id.</param>
/// <param name="Content">The text it matches.</param>
/// <param name="Special">Whether it is a control token rather than text.</param>
/// <param name="LeftStrip">Whether whitespace before it is absorbed.</param>
/// <param name="RightStrip">Whether whitespace after it is absorbed.</param>
/// <param name="SingleWord">Whether it only matches as a whole word.</param>
/// <param name="Normalized">Whether Hugging Face matches it in normalized text (we match every added token in the raw text).</param>
public sealed record AddedToken(int Id, string Content, bool Special, bool LeftStrip = false, bool RightStrip = false, bool SingleWord = false, bool Normalized = false);
