namespace LlmAspire.Gateway.Health;

/// <summary>The state of one forwarding attempt, shared by the retry step and the response transform.</summary>
internal sealed class ProxyAttemptFeature
{
    /// <summary>Whether a failure of this attempt may be retried on another server.</summary>
    public bool RetryAllowed { get; set; }

    /// <summary>The status of a response whose body was held back so the request can be retried; null if none was.</summary>
    public int? SuppressedStatus { get; set; }

    /// <summary>Whether the held-back 503 said the server is shutting down (draining).</summary>
    public bool ShuttingDown { get; set; }
}
