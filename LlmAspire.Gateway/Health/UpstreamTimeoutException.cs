namespace LlmAspire.Gateway.Health;

/// <summary>
/// A model server sent no response headers within <see cref="TimeoutOptions.FirstByte"/>. An
/// <see cref="OperationCanceledException"/>, so YARP reports it as <c>RequestTimedOut</c> (504) rather than as a failed
/// connection; <see cref="RetryOnAnotherServerMiddleware"/> retries it on another server.
/// </summary>
internal sealed class UpstreamTimeoutException(TimeSpan firstByte, Exception? innerException)
    : OperationCanceledException($"The model server sent no response headers within {firstByte}.", innerException)
{
    /// <summary>The timeout that expired.</summary>
    public TimeSpan FirstByte { get; } = firstByte;
}
