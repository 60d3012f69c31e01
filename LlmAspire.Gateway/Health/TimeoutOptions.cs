namespace LlmAspire.Gateway.Health;

/// <summary>
/// How long the gateway waits on a model server, section <c>Gateway:Timeouts</c>: the one place these defaults live.
/// </summary>
/// <remarks>
/// A server that dies is not found by these timeouts but by its connections: the gateway connects to each server
/// process directly (the AppHost's model-server endpoints are not proxied), so a killed process resets them at once; a
/// server that vanishes without a reset (a lost node) is found by <see cref="KeepAlive"/>; one that stops answering
/// its <c>/health</c> probes (<see cref="HealthProbe"/>, twice in a row) or refuses connections is declared unreachable
/// and every request in flight on it ends at once. Each of those ends a request that has sent nothing to its client by
/// retrying it on another server, and a stream under way with an error event. The two request timeouts below are the
/// last resort for a server that is alive but stuck, so they are sized from how the model server answers:
/// <list type="bullet">
/// <item><see cref="FirstByte"/>: a non-streamed answer sends nothing until the whole generation is done, and a stream's
/// headers come with its first token, after its queue wait and prefill; so it must cover a whole generation.</item>
/// <item><see cref="StreamIdle"/>: between two events of a stream lies one engine step: one prefill chunk of at most
/// <c>PrefillChunkTokens</c> (256) prompt tokens of some request plus one decode step of the batch.</item>
/// </list>
/// </remarks>
public sealed class TimeoutOptions
{
    /// <summary>
    /// The longest wait for a model server's response headers. 5 minutes covers a non-streamed generation of ~4,000
    /// tokens at 15 tokens/s; raise it for longer answers on slower hardware. On expiry the request is retried once on
    /// another server (nothing has reached the client), else answered 504.
    /// </summary>
    public TimeSpan FirstByte { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// The longest gap between two reads of a response body once its headers came. 30 s is ten times one engine step
    /// with a 256-token prefill chunk of a billion-parameter model on a CPU. On expiry a stream ends with an error
    /// event; a body that has sent nothing yet is retried as when the headers never came.
    /// </summary>
    public TimeSpan StreamIdle { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The longest TCP connect to a model server (the handler's default is unbounded: the OS gives up after ~2 minutes).</summary>
    public TimeSpan Connect { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// TCP keep-alive on the connections to the model servers: the idle time before the first probe. Probes then go
    /// every second and three unanswered ones drop the connection, so a server gone without a reset (a lost node or
    /// network) costs about this plus 3 s. HTTP/2 connections also ping at this interval.
    /// </summary>
    public TimeSpan KeepAlive { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The longest wait for a <c>/health</c> probe's answer. A server whose probes get no answer twice in a row is
    /// ejected and declared unreachable; with probes every 5 s a frozen server costs at most ~2 × (5 + 3) s.
    /// </summary>
    public TimeSpan HealthProbe { get; set; } = TimeSpan.FromSeconds(3);
}
