namespace LlmAspire.Inference.Constraints;

/// <summary>How <see cref="JsonSchemaGrammar"/> shapes the JSON it allows.</summary>
public sealed record JsonGrammarOptions
{
    /// <summary>
    /// Whitespace characters allowed between two JSON tokens (and before the value). Bounded, as XGrammar and
    /// llguidance bound it, so that a model cannot pad forever; enough for pretty-printing a few levels deep.
    /// </summary>
    public int MaxWhitespace { get; init; } = 12;

    /// <summary>The largest <c>maxLength</c> a string may have.</summary>
    public int MaxStringLength { get; init; } = 10_000;
}
