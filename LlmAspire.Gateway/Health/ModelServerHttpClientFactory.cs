using System.Net.Sockets;
using Yarp.ReverseProxy.Forwarder;

namespace LlmAspire.Gateway.Health;

/// <summary>
/// The HTTP client of every model-server cluster (forwarded requests and active health probes): YARP's, plus a connect
/// timeout, TCP keep-alive (and HTTP/2 pings) so a server that vanishes without resetting its connections is noticed,
/// and <see cref="UpstreamWatchdogHandler"/> for the first-byte and idle timeouts and reachability.
/// </summary>
internal sealed class ModelServerHttpClientFactory(
    TimeoutOptions timeouts, ServerReachability reachability, ILoggerFactory loggerFactory)
    : ForwarderHttpClientFactory(loggerFactory.CreateLogger<ForwarderHttpClientFactory>())
{
    private readonly ILogger _watchdogLogger = loggerFactory.CreateLogger<UpstreamWatchdogHandler>();

    /// <summary>Seconds between TCP keep-alive probes once the first went unanswered.</summary>
    public const int KeepAliveProbeIntervalSeconds = 1;

    /// <summary>Unanswered TCP keep-alive probes that drop a connection.</summary>
    public const int KeepAliveProbeCount = 3;

    protected override void ConfigureHandler(ForwarderHttpClientContext context, SocketsHttpHandler handler)
    {
        base.ConfigureHandler(context, handler);
        handler.ConnectTimeout = timeouts.Connect;
        handler.ConnectCallback = ConnectAsync;
        handler.KeepAlivePingDelay = timeouts.KeepAlive;
        handler.KeepAlivePingTimeout = timeouts.KeepAlive;
        handler.KeepAlivePingPolicy = HttpKeepAlivePingPolicy.WithActiveRequests;
    }

    protected override HttpMessageHandler WrapHandler(ForwarderHttpClientContext context, HttpMessageHandler handler) =>
        new UpstreamWatchdogHandler(handler, timeouts, reachability, _watchdogLogger);

    /// <summary>Connects as <see cref="SocketsHttpHandler"/> does by default, with TCP keep-alive on the socket.</summary>
    private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
            socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveTime, Math.Max(1, (int)timeouts.KeepAlive.TotalSeconds));
            socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveInterval, KeepAliveProbeIntervalSeconds);
            socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveRetryCount, KeepAliveProbeCount);
            await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
