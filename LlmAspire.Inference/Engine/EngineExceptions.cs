namespace LlmAspire.Inference.Engine;

/// <summary>The waiting queue is full; retry later. Carries the facts; the serving layer chooses the words.</summary>
public sealed class EngineQueueFullException : Exception
{
    /// <summary>Creates the exception.</summary>
    public EngineQueueFullException(int waiting)
        : base($"The engine's waiting queue is full ({waiting} requests waiting).")
    {
        Waiting = waiting;
    }

    /// <summary>Creates the exception.</summary>
    public EngineQueueFullException()
        : this(0)
    {
    }

    /// <summary>Creates the exception.</summary>
    public EngineQueueFullException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception.</summary>
    public EngineQueueFullException(string message)
        : base(message)
    {
    }

    /// <summary>Requests waiting when this one was refused.</summary>
    public int Waiting { get; }
}

/// <summary>
/// The prompt plus the completion budget does not fit a sequence's context. Carries the numbers; the serving layer
/// chooses the words and the parameter to blame.
/// </summary>
public sealed class ContextLengthExceededException : Exception
{
    /// <summary>Creates the exception for a request of <paramref name="promptTokens"/> + <paramref name="maxTokens"/> positions.</summary>
    public ContextLengthExceededException(int context, int promptTokens, int maxTokens)
        : base($"{promptTokens} prompt tokens + {maxTokens} completion tokens exceed the context of {context} positions.")
    {
        Context = context;
        PromptTokens = promptTokens;
        MaxTokens = maxTokens;
    }

    /// <summary>Creates the exception.</summary>
    public ContextLengthExceededException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public ContextLengthExceededException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public ContextLengthExceededException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Positions per sequence.</summary>
    public int Context { get; }

    /// <summary>Tokens in the prompt.</summary>
    public int PromptTokens { get; }

    /// <summary>The completion budget asked for.</summary>
    public int MaxTokens { get; }

    /// <summary>True when the prompt alone leaves no room for a completion; otherwise the budget is what does not fit.</summary>
    public bool PromptTooLong => PromptTokens >= Context;
}

/// <summary>The engine is draining or stopped and takes no new requests.</summary>
public sealed class EngineStoppedException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    public EngineStoppedException()
        : base("The engine is stopping and takes no new requests.")
    {
    }

    /// <summary>Creates the exception.</summary>
    public EngineStoppedException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public EngineStoppedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
