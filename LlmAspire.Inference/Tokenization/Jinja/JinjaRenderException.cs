namespace LlmAspire.Inference.Tokenization.Jinja;

/// <summary>
/// A template refused the conversation while rendering: its <c>raise_exception(message)</c> (the message is the
/// template's), or an operation the values do not allow (a loop over none, an unknown method). An
/// <see cref="ArgumentException"/>, since the request's messages decide it: the server answers 400.
/// </summary>
public sealed class JinjaRenderException : ArgumentException
{
    /// <summary>A render failure with <paramref name="message"/>.</summary>
    public JinjaRenderException(string message)
        : base(message)
    {
    }

    /// <summary>A render failure with <paramref name="message"/> caused by <paramref name="innerException"/>.</summary>
    public JinjaRenderException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>A render failure.</summary>
    public JinjaRenderException()
    {
    }
}
