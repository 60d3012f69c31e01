namespace LlmAspire.Gateway.Health;

/// <summary>Why a model server's response body stopped.</summary>
internal enum UpstreamFailure
{
    /// <summary>The connection broke (reset or closed early).</summary>
    Disconnected,

    /// <summary>Nothing came for <see cref="TimeoutOptions.StreamIdle"/>.</summary>
    Idle,

    /// <summary>The server was declared unreachable (<see cref="ServerReachability"/>).</summary>
    Unreachable,
}
