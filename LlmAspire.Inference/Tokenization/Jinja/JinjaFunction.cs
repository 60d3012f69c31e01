namespace LlmAspire.Inference.Tokenization.Jinja;

/// <summary>A callable value: positional arguments, then keyword arguments (null when the call has none).</summary>
public delegate JinjaValue JinjaFunction(IReadOnlyList<JinjaValue> arguments, IReadOnlyDictionary<string, JinjaValue>? keywordArguments);
