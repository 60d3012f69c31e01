namespace LlmAspire.Inference.Constraints;

/// <summary>
/// A grammar, regular expression or JSON Schema that cannot be compiled: its message names the construct and, where
/// there is one, the position or path. The model server turns it into a 400.
/// </summary>
public sealed class GrammarException : Exception
{
    /// <summary>Creates the exception.</summary>
    public GrammarException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public GrammarException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public GrammarException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
