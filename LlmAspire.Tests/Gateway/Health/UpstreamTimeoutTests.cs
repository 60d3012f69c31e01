using System.Diagnostics;
using System.Net;
using System.Text.Json;
using LlmAspire.Tests.Gateway.Routing;
using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Model;
using static LlmAspire.Tests.Gateway.Routing.InProcessGateway;

namespace LlmAspire.Tests.Gateway.Health;

/// <summary>
/// Model servers that stall, against the gateway in process: no headers within <c>Gateway:Timeouts:FirstByte</c>, a
/// stream silent for <c>StreamIdle</c>, a server frozen (its probes unanswered) or gone while it runs a request. Each
/// ends in a retry on another server when nothing reached the client yet, else in an error, within its bound.
/// </summary>
public sealed class UpstreamTimeoutTests
{
    private const string Cluster = "modelservers";

    /// <summary>The first-byte and stream-idle timeouts of these tests.</summary>
    private static readonly TimeSpan s_timeout = TimeSpan.FromMilliseconds(600);

    /// <summary>What a shared, busy 2-core machine may add before the gateway acts on a timeout.</summary>
    private static readonly TimeSpan s_slack = TimeSpan.FromSeconds(3);

    /// <summary>Servers tried in alphabetical order, probes out of the way, the short timeouts.</summary>
    private static Dictionary<string, string?> Configuration(params string[] servers)
    {
        var configuration = new Dictionary<string, string?>
        {
            ["Gateway:DefaultModel"] = "m",
            ["Gateway:LoadBalancingPolicy"] = "FirstAlphabetical",
            ["Gateway:HealthCheckInterval"] = "01:00:00",
            ["Gateway:Timeouts:FirstByte"] = s_timeout.ToString(),
            ["Gateway:Timeouts:StreamIdle"] = s_timeout.ToString(),
        };
        for (var i = 0; i < servers.Length; i++)
        {
            configuration[$"Gateway:ModelServers:{i}"] = servers[i];
        }

        return configuration;
    }

    /// <summary>
    /// The first-byte timeout a minute away, for the tests of a stream whose first server does answer: under a loaded
    /// CI run its headers once took longer than the 0.6 s timeout, the request went to the other server, and the test
    /// read that server's answer instead of the stall it is about. What these tests time is the stream's idle timeout.
    /// </summary>
    private static Dictionary<string, string?> HeadersGetAMinute(Dictionary<string, string?> configuration)
    {
        configuration["Gateway:Timeouts:FirstByte"] = "00:01:00";
        return configuration;
    }

    /// <summary>
    /// Asserts that the time <paramref name="clock"/> measured lies between <paramref name="low"/> and
    /// <paramref name="high"/>, the upper bound once the time this process itself stood still is taken out
    /// (<see cref="ClientStalls"/>): the gateway runs in this process, and a stall of the whole process (a CI run measured
    /// 14 s for a 0.6 s timeout) is not the timeout's doing. A failure says how long the process stood still.
    /// </summary>
    private static void AssertElapsed(Stopwatch clock, ClientStalls stalls, TimeSpan low, TimeSpan high)
    {
        var elapsed = clock.Elapsed;
        var stalled = stalls.Within(TimeSpan.Zero, elapsed);
        Assert.True(
            elapsed >= low && elapsed - stalled <= high,
            $"{elapsed.TotalSeconds:F2} s, {stalled.TotalSeconds:F2} s of which this process stood still; expected {low.TotalSeconds:F2}-{high.TotalSeconds:F2} s. This process: {stalls.Describe()}.");
    }

    [Fact]
    public async Task Completions_ServerSendsNoHeaders_RetriedOnAnotherAfterTheFirstByteTimeout()
    {
        await using var stalled = await FakeModelServer.StartAsync("a-stalled", "m");
        stalled.OnCompletion = context => Task.Delay(Timeout.Infinite, context.RequestAborted);
        await using var live = await FakeModelServer.StartAsync("b-live", "m");
        await using var gateway = await StartAsync(Configuration(stalled.Name, live.Name), stalled, live);
        using var client = gateway.CreateClient();
        var clock = Stopwatch.StartNew();
        await using var stalls = new ClientStalls(clock);

        using var response = await client.PostAsync(new Uri("/v1/completions", UriKind.Relative), Completion("m")).WaitAsync(TestTimeout);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("b-live", Assert.Single(response.Headers.GetValues("x-llmaspire-server")));
        Assert.Equal("a-stalled", Assert.Single(response.Headers.GetValues("x-llmaspire-retried-from")));
        AssertElapsed(clock, stalls, s_timeout, s_timeout + s_slack);
    }

    [Fact]
    public async Task Completions_OnlyServerSendsNoHeaders_504ModelServerTimeoutAfterTheFirstByteTimeout()
    {
        await using var stalled = await FakeModelServer.StartAsync("a-stalled", "m");
        stalled.OnCompletion = context => Task.Delay(Timeout.Infinite, context.RequestAborted);
        await using var gateway = await StartAsync(Configuration(stalled.Name), stalled);
        using var client = gateway.CreateClient();
        var clock = Stopwatch.StartNew();
        await using var stalls = new ClientStalls(clock);

        using var response = await client.PostAsync(new Uri("/v1/completions", UriKind.Relative), Completion("m")).WaitAsync(TestTimeout);

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        AssertElapsed(clock, stalls, s_timeout, s_timeout + s_slack);
        var error = ErrorOf(await response.Content.ReadAsStringAsync().WaitAsync(TestTimeout));
        Assert.Equal("model_server_timeout", error.GetProperty("code").GetString());
        Assert.Equal("server_error", error.GetProperty("type").GetString());
    }

    [Fact]
    public async Task Stream_ServerStopsSendingEvents_EndsWithAnErrorEventAfterTheIdleTimeout()
    {
        await using var stalled = await FakeModelServer.StartAsync("a-stalled", "m");
        stalled.OnCompletion = async context =>
        {
            context.Response.ContentType = "text/event-stream";
            await context.Response.WriteAsync("data: first\n\n", context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
            await Task.Delay(Timeout.Infinite, context.RequestAborted);
        };
        await using var live = await FakeModelServer.StartAsync("b-live", "m");
        await using var gateway = await StartAsync(HeadersGetAMinute(Configuration(stalled.Name, live.Name)), stalled, live);
        using var client = gateway.CreateClient();

        // Timed from the request: a loaded machine may hand the client the first event late, by when the idle
        // timeout may have run; the error event can never come sooner than the timeout after the request.
        var clock = Stopwatch.StartNew();
        await using var stalls = new ClientStalls(clock);
        using var response = await SendStreamAsync(client);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync().WaitAsync(TestTimeout));
        Assert.Equal("data: first", await reader.ReadLineAsync().WaitAsync(TestTimeout));
        Assert.Equal("", await reader.ReadLineAsync().WaitAsync(TestTimeout));
        var firstEvent = clock.Elapsed;
        var (error, rest) = await ReadErrorEventAsync(reader);

        AssertElapsed(clock, stalls, s_timeout - TimeSpan.FromMilliseconds(100), firstEvent + s_timeout + s_slack);
        Assert.Equal("model_server_timeout", error.GetProperty("code").GetString());
        Assert.Empty(rest);
        Assert.Empty(live.Requests);
    }

    [Fact]
    public async Task Stream_ServerDiesInTheMiddleOfAnEvent_ThePartialEventIsDroppedAndAnErrorEventEndsTheStream()
    {
        await using var dying = await FakeModelServer.StartAsync("a-dying", "m");
        dying.OnCompletion = async context =>
        {
            context.Response.ContentType = "text/event-stream";
            await context.Response.WriteAsync("data: first\n\n", context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
            await Task.Delay(100, context.RequestAborted);
            await context.Response.WriteAsync("data: {\"choices\":[{\"te", context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
            await Task.Delay(100, context.RequestAborted);
            context.Abort();
        };
        await using var live = await FakeModelServer.StartAsync("b-live", "m");
        // Neither timeout may end this stream before the server's death does: it is about the disconnection.
        var configuration = HeadersGetAMinute(Configuration(dying.Name, live.Name));
        configuration["Gateway:Timeouts:StreamIdle"] = "00:01:00";
        await using var gateway = await StartAsync(configuration, dying, live);
        using var client = gateway.CreateClient();

        using var response = await SendStreamAsync(client);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync().WaitAsync(TestTimeout));
        Assert.Equal("data: first", await reader.ReadLineAsync().WaitAsync(TestTimeout));
        Assert.Equal("", await reader.ReadLineAsync().WaitAsync(TestTimeout));
        var (error, rest) = await ReadErrorEventAsync(reader);

        Assert.Equal("model_server_disconnected", error.GetProperty("code").GetString());
        Assert.Empty(rest);
        Assert.Empty(live.Requests);
    }

    [Fact]
    public async Task Stream_ServerSentHeadersButNoEvent_RetriedOnAnotherAfterTheIdleTimeout()
    {
        await using var stalled = await FakeModelServer.StartAsync("a-stalled", "m");
        stalled.OnCompletion = async context =>
        {
            context.Response.ContentType = "text/event-stream";
            await context.Response.StartAsync(context.RequestAborted);
            await Task.Delay(Timeout.Infinite, context.RequestAborted);
        };
        await using var live = await FakeModelServer.StartAsync("b-live", "m");
        live.OnCompletion = async context =>
        {
            context.Response.ContentType = "text/event-stream";
            await context.Response.WriteAsync("data: live\n\ndata: [DONE]\n\n", context.RequestAborted);
        };
        await using var gateway = await StartAsync(Configuration(stalled.Name, live.Name), stalled, live);
        using var client = gateway.CreateClient();
        var clock = Stopwatch.StartNew();
        await using var stalls = new ClientStalls(clock);

        using var response = await SendStreamAsync(client);
        var text = await response.Content.ReadAsStringAsync().WaitAsync(TestTimeout);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("a-stalled", Assert.Single(response.Headers.GetValues("x-llmaspire-retried-from")));
        Assert.Equal("data: live\n\ndata: [DONE]\n\n", text);
        AssertElapsed(clock, stalls, s_timeout, s_timeout + s_slack);
    }

    [Fact]
    public async Task Completions_ServerFreezesWhileRunningIt_RetriedOnAnotherOnceItsProbesGoUnanswered()
    {
        await using var freezing = await FreezableModelServer.StartAsync("a-freezing");
        await using var live = await FakeModelServer.StartAsync("b-live", "m");
        var configuration = Configuration(freezing.Name, live.Name);
        configuration["Gateway:HealthCheckInterval"] = "00:00:00.250";
        configuration["Gateway:Timeouts:HealthProbe"] = "00:00:00.250";
        // The request's own timeouts are far away: what ends it is the server's reachability.
        configuration["Gateway:Timeouts:FirstByte"] = "00:01:00";
        configuration["Gateway:Timeouts:StreamIdle"] = "00:01:00";
        await using var gateway = await StartAsync(configuration, [(freezing.Name, freezing.Url), (live.Name, live.Url)]);
        using var client = gateway.CreateClient();
        var frozen = gateway.Destination(Cluster, freezing.Name);
        await WaitUntilAsync(() => frozen.Health.Active == DestinationHealth.Healthy, TestTimeout, "the freezing server is probed healthy");

        var sending = client.PostAsync(new Uri("/v1/completions", UriKind.Relative), Completion("m"));
        await freezing.Received.WaitAsync(TestTimeout);
        freezing.Frozen = true;
        var clock = Stopwatch.StartNew();
        await using var stalls = new ClientStalls(clock);
        using var response = await sending.WaitAsync(TestTimeout);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("b-live", Assert.Single(response.Headers.GetValues("x-llmaspire-server")));
        Assert.Equal("a-freezing", Assert.Single(response.Headers.GetValues("x-llmaspire-retried-from")));
        // Two probes of 250 ms, 250 ms apart, go unanswered.
        AssertElapsed(clock, stalls, TimeSpan.Zero, TimeSpan.FromSeconds(1) + s_slack);
    }

    private static async Task<HttpResponseMessage> SendStreamAsync(HttpClient client)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/v1/completions", UriKind.Relative)) { Content = Completion("m", stream: true) };
        return await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead).WaitAsync(TestTimeout);
    }

    /// <summary>Reads one error event and whatever follows it to the end of the stream (which must end cleanly).</summary>
    private static async Task<(JsonElement Error, string Remainder)> ReadErrorEventAsync(StreamReader reader)
    {
        var line = await reader.ReadLineAsync().WaitAsync(TestTimeout);
        Assert.NotNull(line);
        Assert.StartsWith("data: ", line, StringComparison.Ordinal);
        var error = ErrorOf(line["data: ".Length..]);
        Assert.Equal("", await reader.ReadLineAsync().WaitAsync(TestTimeout));
        var rest = await reader.ReadToEndAsync().WaitAsync(TestTimeout);
        return (error, rest);
    }

    /// <summary>The <c>error</c> object of an OpenAI error body, checked to have all four members.</summary>
    private static JsonElement ErrorOf(string json)
    {
        using var document = JsonDocument.Parse(json);
        var error = document.RootElement.GetProperty("error").Clone();
        Assert.Equal(["message", "type", "param", "code"], error.EnumerateObject().Select(member => member.Name));
        Assert.Equal("server_error", error.GetProperty("type").GetString());
        return error;
    }
}
