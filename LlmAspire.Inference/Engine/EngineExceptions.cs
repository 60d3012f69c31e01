namespace LlmAspire.Inference.Engine;

/// <summary>The waiting queue is full; retry later.</summary>
public sealed class EngineQueueFullException : Exception
{
    /// <summary>Creates the exception.</summary>
    public EngineQueueFullException(int waiting)
        : base($"The server is busy: {waiting} requests are already waiting.")
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

/// <summary>The prompt plus the completion budget does not fit a sequence's context.</summary>
public sealed class ContextLengthExceededException : ArgumentException
{
    /// <summary>Creates the exception.</summary>
    public ContextLengthExceededException(string message, string? paramName)
        : base(message, paramName)
    {
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
}
