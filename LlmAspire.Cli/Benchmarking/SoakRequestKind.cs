namespace LlmAspire.Cli.Benchmarking;

/// <summary>The kinds of request <c>bench soak</c> mixes.</summary>
public enum SoakRequestKind
{
    /// <summary>A non-streamed completion or chat completion, read whole.</summary>
    Plain,

    /// <summary>A streamed one, read through <c>data: [DONE]</c>.</summary>
    Streamed,

    /// <summary>A streamed one the client drops after its first few events.</summary>
    Cancelled,

    /// <summary>One the services must refuse with a 4xx in the OpenAI error shape.</summary>
    Invalid,
}
