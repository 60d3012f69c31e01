namespace LlmAspire.Inference.Tokenization.Jinja;

/// <summary>
/// A chat template this interpreter cannot load: a syntax error, or a construct it does not implement (such as
/// <c>{% extends %}</c> or an unknown filter), named with its line. Raised when the model loads, never per request.
/// </summary>
public sealed class JinjaTemplateException : NotSupportedException
{
    /// <summary>A load failure at <paramref name="line"/> (1-based).</summary>
    public JinjaTemplateException(string message, int line)
        : base($"Chat template line {line}: {message}")
    {
        Line = line;
    }

    /// <summary>A load failure with <paramref name="message"/>.</summary>
    public JinjaTemplateException(string message)
        : base(message)
    {
    }

    /// <summary>A load failure with <paramref name="message"/> caused by <paramref name="innerException"/>.</summary>
    public JinjaTemplateException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>A load failure.</summary>
    public JinjaTemplateException()
    {
    }

    /// <summary>The 1-based line of the construct, or 0 when unknown.</summary>
    public int Line { get; }
}
