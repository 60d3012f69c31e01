namespace LlmAspire.Gateway.Health;

/// <summary>A model server's response body stopped before its end; YARP reports it as <c>ResponseBodyDestination</c>.</summary>
internal sealed class UpstreamBodyException(UpstreamFailure failure, Exception? innerException)
    : IOException($"The model server's response stopped: {failure}.", innerException)
{
    /// <summary>Why it stopped.</summary>
    public UpstreamFailure Failure { get; } = failure;
}
