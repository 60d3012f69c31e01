using System.Net.Sockets;
using LlmAspire.Gateway.Health;
using Microsoft.Extensions.Logging.Abstractions;

namespace LlmAspire.Tests.Gateway.Health;

/// <summary>When a model server is declared unreachable, and what that does to the requests in flight on it.</summary>
public sealed class ServerReachabilityTests
{
    private static readonly Uri s_server = new("http://127.0.0.1:5100/v1/completions");
    private static readonly Uri s_probe = new("http://127.0.0.1:5100/health");
    private static readonly Uri s_other = new("http://127.0.0.1:5101/v1/completions");

    private static HttpRequestException Refused() =>
        new(HttpRequestError.ConnectionError, "refused", new SocketException((int)SocketError.ConnectionRefused));

    [Fact]
    public void RequestFailed_ConnectionRefused_EndsWhatIsInFlightThereOnly()
    {
        var reachability = new ServerReachability(new HealthOptions(), NullLogger<ServerReachability>.Instance);
        var inFlight = reachability.InFlightToken(s_server);
        var elsewhere = reachability.InFlightToken(s_other);

        reachability.RequestFailed(s_server, Refused());

        Assert.True(inFlight.IsCancellationRequested);
        Assert.False(elsewhere.IsCancellationRequested);
        Assert.True(reachability.IsUnreachable(s_probe));
        Assert.False(reachability.InFlightToken(s_server).IsCancellationRequested);
    }

    [Fact]
    public void RequestFailed_ConnectionReset_DeclaresNothing()
    {
        var reachability = new ServerReachability(new HealthOptions(), NullLogger<ServerReachability>.Instance);
        var inFlight = reachability.InFlightToken(s_server);

        reachability.RequestFailed(s_server, new HttpRequestException(HttpRequestError.ResponseEnded, "reset", new IOException("reset")));

        Assert.False(inFlight.IsCancellationRequested);
        Assert.False(reachability.IsUnreachable(s_server));
    }

    [Fact]
    public void ProbeUnanswered_Twice_EndsWhatIsInFlight()
    {
        var reachability = new ServerReachability(new HealthOptions(), NullLogger<ServerReachability>.Instance);
        var inFlight = reachability.InFlightToken(s_server);

        reachability.ProbeUnanswered(s_probe, new TaskCanceledException("probe timed out"));
        Assert.False(inFlight.IsCancellationRequested);
        reachability.ProbeUnanswered(s_probe, new TaskCanceledException("probe timed out"));

        Assert.True(inFlight.IsCancellationRequested);
    }

    [Fact]
    public void ProbeUnanswered_Refused_EndsWhatIsInFlightAtOnce()
    {
        var reachability = new ServerReachability(new HealthOptions(), NullLogger<ServerReachability>.Instance);
        var inFlight = reachability.InFlightToken(s_server);

        reachability.ProbeUnanswered(s_probe, Refused());

        Assert.True(inFlight.IsCancellationRequested);
    }

    [Fact]
    public void Answered_BetweenUnansweredProbes_StartsTheCountAgain()
    {
        var reachability = new ServerReachability(new HealthOptions(), NullLogger<ServerReachability>.Instance);
        var inFlight = reachability.InFlightToken(s_server);

        reachability.ProbeUnanswered(s_probe, new TaskCanceledException());
        reachability.Answered(s_probe);
        reachability.ProbeUnanswered(s_probe, new TaskCanceledException());

        Assert.False(inFlight.IsCancellationRequested);
    }

    [Fact]
    public void ProbeUnanswered_WhileUnreachable_EndsRequestsSentSince()
    {
        var reachability = new ServerReachability(new HealthOptions(), NullLogger<ServerReachability>.Instance);
        reachability.RequestFailed(s_server, Refused());
        var sentSince = reachability.InFlightToken(s_server);

        reachability.ProbeUnanswered(s_probe, new TaskCanceledException());

        Assert.True(sentSince.IsCancellationRequested);
        reachability.Answered(s_probe);
        Assert.False(reachability.IsUnreachable(s_server));
    }

    [Fact]
    public void RequestFailed_ConnectionRefusedWithEndingTurnedOff_EndsNothing()
    {
        var reachability = new ServerReachability(new HealthOptions { EndRequestsWhenUnreachable = false }, NullLogger<ServerReachability>.Instance);
        var inFlight = reachability.InFlightToken(s_server);

        reachability.RequestFailed(s_server, Refused());

        Assert.False(inFlight.IsCancellationRequested);
        Assert.True(reachability.IsUnreachable(s_server));
    }
}
