namespace LlmAspire.Inference.Tokenization.Jinja;

/// <summary>The arguments of the <c>tojson</c> filter.</summary>
/// <param name="Indent">Spaces per level, or null for one line.</param>
/// <param name="EnsureAscii">Whether non-ASCII characters are written as <c>\uXXXX</c>.</param>
/// <param name="ItemSeparator">Between items (default <c>", "</c>, or <c>","</c> when indenting).</param>
/// <param name="KeySeparator">Between a key and its value (default <c>": "</c>).</param>
/// <param name="SortKeys">Whether mapping keys are sorted.</param>
public sealed record JinjaJsonOptions(int? Indent = null, bool EnsureAscii = false, string? ItemSeparator = null, string? KeySeparator = null, bool SortKeys = false);
