using System.Net;
using System.Text.Json;
using LlmAspire.Tests.Gateway.Routing;
using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Model;
using static LlmAspire.Tests.Gateway.Routing.InProcessGateway;

namespace LlmAspire.Tests.Gateway;

/// <summary>Retries on another server, passive ejection and active health, against fake servers in process.</summary>
public sealed class GatewayFailoverTests
{
    private const string Cluster = "modelservers";

    /// <summary>Two servers, "a-…" tried first (FirstAlphabetical), so the first attempt's fate is chosen by the test.</summary>
    private static Dictionary<string, string?> TwoServers(string first, string second, string policy = "FirstAlphabetical") => new()
    {
        ["Gateway:ModelServers:0"] = first,
        ["Gateway:ModelServers:1"] = second,
        ["Gateway:DefaultModel"] = "m",
        ["Gateway:LoadBalancingPolicy"] = policy,
        // Active probes out of the way: these tests are about what requests do.
        ["Gateway:HealthCheckInterval"] = "01:00:00",
    };

    [Fact]
    public async Task Completions_FirstServerRefusesConnections_RetriedOnTheOtherWithTheSameBody()
    {
        await using var live = await FakeModelServer.StartAsync("b-live", "m");
        using var dead = FakeModelServer.ReserveClosedUrl();
        await using var gateway = await StartAsync(TwoServers("a-dead", "b-live"), [("a-dead", dead.Url), (live.Name, live.Url)]);
        using var client = gateway.CreateClient();
        var prompt = new string('p', 100_000);

        using var response = await client.PostAsync(new Uri("/v1/completions", UriKind.Relative), Completion("m", prompt)).WaitAsync(TestTimeout);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("b-live", Assert.Single(response.Headers.GetValues("x-llmaspire-server")));
        Assert.Equal("a-dead", Assert.Single(response.Headers.GetValues("x-llmaspire-retried-from")));
        Assert.True(live.Requests.TryDequeue(out var forwarded));
        using var body = JsonDocument.Parse(forwarded.Body);
        Assert.Equal(prompt, body.RootElement.GetProperty("prompt").GetString());
    }

    [Fact]
    public async Task Completions_FirstServerAnswers503_RetriedWithoutLeakingTheFirstAnswer()
    {
        await using var busy = await FakeModelServer.StartAsync("a-busy", "m");
        busy.OnCompletion = async context =>
        {
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            context.Response.Headers.RetryAfter = "1";
            await context.Response.WriteAsync("""{"error":{"message":"busy","type":"server_error","param":null,"code":"queue_full"}}""");
        };
        await using var live = await FakeModelServer.StartAsync("b-live", "m");
        await using var gateway = await StartAsync(TwoServers("a-busy", "b-live"), busy, live);
        using var client = gateway.CreateClient();

        using var response = await client.PostAsync(new Uri("/v1/completions", UriKind.Relative), Completion("m")).WaitAsync(TestTimeout);
        var text = await response.Content.ReadAsStringAsync().WaitAsync(TestTimeout);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("""{"server":"b-live","object":"text_completion"}""", text);
        Assert.False(response.Headers.Contains("Retry-After"));
        Assert.Single(busy.Requests);
        Assert.Single(live.Requests);
    }

    [Fact]
    public async Task Completions_OnlyServerAnswers503_TheClientGetsItWhole()
    {
        await using var busy = await FakeModelServer.StartAsync("a-busy", "m");
        busy.OnCompletion = async context =>
        {
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            await context.Response.WriteAsync("""{"error":{"code":"queue_full"}}""");
        };
        await using var gateway = await StartAsync(new Dictionary<string, string?> { ["Gateway:ModelServers:0"] = "a-busy", ["Gateway:DefaultModel"] = "m" }, busy);
        using var client = gateway.CreateClient();

        using var response = await client.PostAsync(new Uri("/v1/completions", UriKind.Relative), Completion("m")).WaitAsync(TestTimeout);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("""{"error":{"code":"queue_full"}}""", await response.Content.ReadAsStringAsync().WaitAsync(TestTimeout));
    }

    [Fact]
    public async Task Completions_BothServersFail_RetriedOnceThenBadGateway()
    {
        using var deadA = FakeModelServer.ReserveClosedUrl();
        using var deadB = FakeModelServer.ReserveClosedUrl();
        await using var gateway = await StartAsync(TwoServers("a-dead", "b-dead"), [("a-dead", deadA.Url), ("b-dead", deadB.Url)]);
        using var client = gateway.CreateClient();

        using var response = await client.PostAsync(new Uri("/v1/completions", UriKind.Relative), Completion("m")).WaitAsync(TestTimeout);

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal("a-dead", Assert.Single(response.Headers.GetValues("x-llmaspire-retried-from")));
    }

    [Fact]
    public async Task Completions_StreamThatStartedThenBroke_IsNotRetriedButEndsWithAnErrorEvent()
    {
        await using var flaky = await FakeModelServer.StartAsync("a-flaky", "m");
        flaky.OnCompletion = async context =>
        {
            context.Response.ContentType = "text/event-stream";
            await context.Response.WriteAsync("data: first\n\n", context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
            await Task.Delay(200, context.RequestAborted);
            context.Abort();
        };
        await using var live = await FakeModelServer.StartAsync("b-live", "m");
        await using var gateway = await StartAsync(TwoServers("a-flaky", "b-live"), flaky, live);
        using var client = gateway.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/v1/completions", UriKind.Relative)) { Content = Completion("m", stream: true) };

        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead).WaitAsync(TestTimeout);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync().WaitAsync(TestTimeout));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("data: first", await reader.ReadLineAsync().WaitAsync(TestTimeout));
        Assert.Equal("", await reader.ReadLineAsync().WaitAsync(TestTimeout));
        var errorEvent = await reader.ReadLineAsync().WaitAsync(TestTimeout);
        Assert.StartsWith("data: {\"error\":{", errorEvent, StringComparison.Ordinal);
        Assert.Contains("\"code\":\"model_server_disconnected\"", errorEvent, StringComparison.Ordinal);
        Assert.Equal("", await reader.ReadLineAsync().WaitAsync(TestTimeout));
        Assert.Null(await reader.ReadLineAsync().WaitAsync(TestTimeout));
        Assert.Empty(live.Requests);
    }

    [Fact]
    public async Task Completions_AServerIsDown_NoRequestFailsAndItIsEjectedThenReactivated()
    {
        await using var live = await FakeModelServer.StartAsync("b-live", "m");
        var configuration = TwoServers("a-dead", "b-live", policy: "LoadAware");
        configuration["Gateway:Health:MinimalRequests"] = "3";
        configuration["Gateway:Health:FailureWindow"] = "00:00:01";
        configuration["Gateway:Health:ReactivationPeriod"] = "00:00:01";
        using var closed = FakeModelServer.ReserveClosedUrl();
        await using var gateway = await StartAsync(configuration, [("a-dead", closed.Url), (live.Name, live.Url)]);
        using var client = gateway.CreateClient();
        var dead = gateway.Destination(Cluster, "a-dead");

        var retried = 0;
        var ejected = false;
        for (var i = 0; i < 20; i++)
        {
            using var response = await client.PostAsync(new Uri("/v1/completions", UriKind.Relative), Completion("m")).WaitAsync(TestTimeout);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            retried += response.Headers.Contains("x-llmaspire-retried-from") ? 1 : 0;
            ejected |= dead.Health.Passive == DestinationHealth.Unhealthy;
        }

        Assert.True(retried >= 1, "the dead server was never tried");
        Assert.Equal(20, live.Requests.Count);
        Assert.True(ejected, "the dead server was never ejected");

        // After the reactivation period it is offered requests again (and, still dead, fails them over again).
        await WaitUntilAsync(() => dead.Health.Passive != DestinationHealth.Unhealthy, TimeSpan.FromSeconds(10), "the dead server is reactivated");
    }

    [Fact]
    public async Task Health_ServerReportsUnhealthy_IsSkippedUntilItRecovers()
    {
        await using var a = await FakeModelServer.StartAsync("a", "m");
        await using var b = await FakeModelServer.StartAsync("b", "m");
        var configuration = TwoServers("a", "b", policy: "RoundRobin");
        configuration["Gateway:HealthCheckInterval"] = "00:00:00.100";
        await using var gateway = await StartAsync(configuration, a, b);
        using var client = gateway.CreateClient();
        var destinationA = gateway.Destination(Cluster, "a");
        await WaitUntilAsync(() => destinationA.Health.Active == DestinationHealth.Healthy, TestTimeout, "a is probed healthy");

        a.Healthy = false;
        await WaitUntilAsync(() => destinationA.Health.Active == DestinationHealth.Unhealthy, TestTimeout, "a is probed unhealthy");
        var during = await ServersOfAsync(client, 6);
        Assert.All(during, server => Assert.Equal("b", server));

        a.Healthy = true;
        await WaitUntilAsync(() => destinationA.Health.Active == DestinationHealth.Healthy, TestTimeout, "a is probed healthy again");
        var after = await ServersOfAsync(client, 6);
        Assert.Equal(3, after.Count(server => server == "a"));
    }

    private static async Task<List<string>> ServersOfAsync(HttpClient client, int count)
    {
        var servers = new List<string>();
        for (var i = 0; i < count; i++)
        {
            using var response = await client.PostAsync(new Uri("/v1/completions", UriKind.Relative), Completion("m")).WaitAsync(TestTimeout);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            servers.Add(Assert.Single(response.Headers.GetValues("x-llmaspire-server")));
        }

        return servers;
    }
}
