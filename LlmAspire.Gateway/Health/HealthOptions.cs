namespace LlmAspire.Gateway.Health;

/// <summary>
/// Passive health (ejection on transport failures, and at once for a server that refuses connections or is shutting
/// down: <see cref="ServerDrainEjection"/>) and the retry on another server, section <c>Gateway:Health</c>.
/// </summary>
public sealed class HealthOptions
{
    /// <summary>
    /// Whether a request that failed before any response byte reached the client (a transport failure, or a 503 from
    /// a server that is loading, draining or full) is forwarded again, to another server not tried yet
    /// (<see cref="RetryOnAnotherServerMiddleware.MaxAttempts"/> servers at most).
    /// </summary>
    public bool RetryOnAnotherServer { get; set; } = true;

    /// <summary>
    /// Whether a server declared unreachable (a refused connection, or two <c>/health</c> probes unanswered) ends the
    /// requests in flight on it at once (<see cref="ServerReachability"/>). Right where each server address is one process,
    /// as the AppHost runs them. Turn it off where one address stands for several processes (a Kubernetes Service with
    /// more than one pod): there one pod refusing a connection says nothing about the requests on the others.
    /// </summary>
    public bool EndRequestsWhenUnreachable { get; set; } = true;

    /// <summary>The share of failed requests within <see cref="FailureWindow"/> that ejects a server (YARP's TransportFailureRate).</summary>
    public double FailureRateLimit { get; set; } = 0.3;

    /// <summary>The sliding window the failure rate is measured over.</summary>
    public TimeSpan FailureWindow { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How many requests the window must hold before the rate can eject a server.</summary>
    public int MinimalRequests { get; set; } = 4;

    /// <summary>
    /// How long an ejected server stays out before it gets requests again (at least <see cref="FailureWindow"/>);
    /// the active <c>/health</c> probe keeps it out for as long as it answers unhealthy.
    /// </summary>
    public TimeSpan ReactivationPeriod { get; set; } = TimeSpan.FromSeconds(10);
}
