using System.Collections.Concurrent;
using System.Net.Sockets;

namespace LlmAspire.Gateway.Health;

/// <summary>
/// Which model servers answer at all, by endpoint (<c>host:port</c>). A server is declared unreachable when a connection
/// to it is refused (nothing listens: its process is gone) or when <see cref="UnansweredProbeLimit"/> <c>/health</c>
/// probes in a row get no HTTP answer (refused, reset or timed out: a frozen or vanished server). That cancels
/// <see cref="InFlightToken"/>, ending every request in flight on it at once instead of leaving it to wait on a
/// connection that may never reset; each is then retried elsewhere or its stream ended, as for a reset.
/// Any HTTP answer (whatever its status) makes the server reachable again. With
/// <see cref="HealthOptions.EndRequestsWhenUnreachable"/> off, servers are still declared (and logged) but nothing ends.
/// </summary>
internal sealed partial class ServerReachability(HealthOptions options, ILogger<ServerReachability> logger)
{
    /// <summary>Unanswered probes in a row that make a server unreachable: YARP's active policy ejects it after as many.</summary>
    public const int UnansweredProbeLimit = 2;

    private readonly ConcurrentDictionary<string, Server> _servers = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Cancelled when the server at <paramref name="uri"/> is declared unreachable; link every request sent to it.</summary>
    public CancellationToken InFlightToken(Uri uri)
    {
        if (!options.EndRequestsWhenUnreachable)
        {
            return CancellationToken.None;
        }

        var server = Get(uri);
        lock (server)
        {
            return server.InFlight.Token;
        }
    }

    /// <summary>Whether the server at <paramref name="uri"/> is currently declared unreachable.</summary>
    public bool IsUnreachable(Uri uri)
    {
        var server = Get(uri);
        lock (server)
        {
            return server.Unreachable;
        }
    }

    /// <summary>The server answered over HTTP (a probe or a forwarded request, any status).</summary>
    public void Answered(Uri uri)
    {
        var server = Get(uri);
        lock (server)
        {
            server.UnansweredProbes = 0;
            if (server.Unreachable)
            {
                server.Unreachable = false;
                LogReachable(logger, server.Endpoint);
            }
        }
    }

    /// <summary>A <c>/health</c> probe got no HTTP answer.</summary>
    public void ProbeUnanswered(Uri uri, Exception exception)
    {
        var server = Get(uri);
        bool declare;
        lock (server)
        {
            server.UnansweredProbes++;
            declare = server.Unreachable || IsRefused(exception) || server.UnansweredProbes >= UnansweredProbeLimit;
        }

        if (declare)
        {
            Declare(server, IsRefused(exception) ? "connection refused" : $"{UnansweredProbeLimit} health probes unanswered");
        }
    }

    /// <summary>A forwarded request failed; a refused connection declares its server unreachable.</summary>
    public void RequestFailed(Uri uri, Exception exception)
    {
        if (IsRefused(exception))
        {
            Declare(Get(uri), "connection refused");
        }
    }

    /// <summary>Whether <paramref name="exception"/> says that nothing listens at the server's address.</summary>
    public static bool IsRefused(Exception exception)
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            if (current is SocketException { SocketErrorCode: SocketError.ConnectionRefused })
            {
                return true;
            }
        }

        return false;
    }

    private void Declare(Server server, string reason)
    {
        // Every failure that qualifies ends what is in flight (a request may have been sent since); only the first logs.
        CancellationTokenSource inFlight;
        bool first;
        lock (server)
        {
            first = !server.Unreachable;
            server.Unreachable = true;
            inFlight = server.InFlight;
            server.InFlight = new CancellationTokenSource();
        }

        if (first)
        {
            LogUnreachable(logger, server.Endpoint, reason);
        }

        // Not disposed: requests still link to its token while they unwind.
        inFlight.Cancel();
    }

    private Server Get(Uri uri) => _servers.GetOrAdd(uri.Authority, static endpoint => new Server(endpoint));

    [LoggerMessage(LogLevel.Warning, "Model server {Endpoint} is unreachable ({Reason}): ending the requests in flight on it.")]
    private static partial void LogUnreachable(ILogger logger, string endpoint, string reason);

    [LoggerMessage(LogLevel.Information, "Model server {Endpoint} answers again.")]
    private static partial void LogReachable(ILogger logger, string endpoint);

    private sealed class Server(string endpoint)
    {
        public string Endpoint { get; } = endpoint;

        public CancellationTokenSource InFlight { get; set; } = new();

        public int UnansweredProbes { get; set; }

        public bool Unreachable { get; set; }
    }
}
