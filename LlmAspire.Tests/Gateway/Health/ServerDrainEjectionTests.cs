using System.Net;
using System.Net.Http.Headers;
using System.Text;
using LlmAspire.Gateway.Health;
using LlmAspire.Tests.Gateway.Routing;
using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Model;
using static LlmAspire.Tests.Gateway.Routing.InProcessGateway;

namespace LlmAspire.Tests.Gateway.Health;

/// <summary>
/// Which failures take a server out of rotation at once (503 <c>shutting_down</c>, a refused connection) and which do
/// not (503 <c>queue_full</c>), and the retry across three servers, against fake servers in process.
/// </summary>
public sealed class ServerDrainEjectionTests
{
    private const string Cluster = "modelservers";

    private static Dictionary<string, string?> Servers(params string[] names)
    {
        var configuration = new Dictionary<string, string?>
        {
            ["Gateway:DefaultModel"] = "m",
            ["Gateway:LoadBalancingPolicy"] = "FirstAlphabetical",
            ["Gateway:HealthCheckInterval"] = "01:00:00",
        };
        for (var i = 0; i < names.Length; i++)
        {
            configuration[$"Gateway:ModelServers:{i}"] = names[i];
        }

        return configuration;
    }

    private static Func<HttpContext, Task> Answer503(string code) => async context =>
    {
        context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        context.Response.Headers.RetryAfter = "5";
        await context.Response.WriteAsync($$$"""{"error":{"message":"no","type":"server_error","param":null,"code":"{{{code}}}"}}""");
    };

    [Fact]
    public async Task ShuttingDown503_RetriedElsewhere_AndTheServerLeavesRotation()
    {
        await using var draining = await FakeModelServer.StartAsync("a-draining", "m");
        draining.OnCompletion = Answer503(ServerDrainEjection.ShuttingDownCode);
        await using var live = await FakeModelServer.StartAsync("b-live", "m");
        await using var gateway = await StartAsync(Servers("a-draining", "b-live"), draining, live);
        using var client = gateway.CreateClient();

        using var first = await client.PostAsync(new Uri("/v1/completions", UriKind.Relative), Completion("m")).WaitAsync(TestTimeout);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal("a-draining", Assert.Single(first.Headers.GetValues(RetryOnAnotherServerMiddleware.RetriedFromHeader)));
        Assert.Equal(DestinationHealth.Unhealthy, gateway.Destination(Cluster, "a-draining").Health.Passive);

        // Out of rotation: the next requests go to the live server without trying the draining one.
        await WaitUntilAsync(
            async () =>
            {
                using var next = await client.PostAsync(new Uri("/v1/completions", UriKind.Relative), Completion("m")).WaitAsync(TestTimeout);
                Assert.Equal(HttpStatusCode.OK, next.StatusCode);
                return !next.Headers.Contains(RetryOnAnotherServerMiddleware.RetriedFromHeader);
            },
            TestTimeout,
            "a request skips the draining server");
        var tried = draining.Requests.Count;
        for (var i = 0; i < 5; i++)
        {
            using var next = await client.PostAsync(new Uri("/v1/completions", UriKind.Relative), Completion("m")).WaitAsync(TestTimeout);
            Assert.Equal(HttpStatusCode.OK, next.StatusCode);
        }

        Assert.Equal(tried, draining.Requests.Count);
    }

    [Fact]
    public async Task QueueFull503_RetriedElsewhere_ButTheBusyServerStaysInRotation()
    {
        await using var busy = await FakeModelServer.StartAsync("a-busy", "m");
        busy.OnCompletion = Answer503("queue_full");
        await using var live = await FakeModelServer.StartAsync("b-live", "m");
        await using var gateway = await StartAsync(Servers("a-busy", "b-live"), busy, live);
        using var client = gateway.CreateClient();

        using var response = await client.PostAsync(new Uri("/v1/completions", UriKind.Relative), Completion("m")).WaitAsync(TestTimeout);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("a-busy", Assert.Single(response.Headers.GetValues(RetryOnAnotherServerMiddleware.RetriedFromHeader)));
        Assert.NotEqual(DestinationHealth.Unhealthy, gateway.Destination(Cluster, "a-busy").Health.Passive);
    }

    [Fact]
    public async Task DrainingThenRefused_TheThirdServerAnswers_AndBothLeaveRotation()
    {
        await using var draining = await FakeModelServer.StartAsync("a-draining", "m");
        draining.OnCompletion = Answer503(ServerDrainEjection.ShuttingDownCode);
        using var gone = FakeModelServer.ReserveClosedUrl();
        await using var live = await FakeModelServer.StartAsync("c-live", "m");
        await using var gateway = await StartAsync(
            Servers("a-draining", "b-gone", "c-live"), [(draining.Name, draining.Url), ("b-gone", gone.Url), (live.Name, live.Url)]);
        using var client = gateway.CreateClient();

        using var response = await client.PostAsync(new Uri("/v1/completions", UriKind.Relative), Completion("m")).WaitAsync(TestTimeout);
        var text = await response.Content.ReadAsStringAsync().WaitAsync(TestTimeout);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("""{"server":"c-live","object":"text_completion"}""", text);
        Assert.Equal("c-live", Assert.Single(response.Headers.GetValues("x-llmaspire-server")));
        Assert.Equal("a-draining", Assert.Single(response.Headers.GetValues(RetryOnAnotherServerMiddleware.RetriedFromHeader)));
        Assert.Equal(DestinationHealth.Unhealthy, gateway.Destination(Cluster, "a-draining").Health.Passive);
        Assert.Equal(DestinationHealth.Unhealthy, gateway.Destination(Cluster, "b-gone").Health.Passive);
        Assert.Single(draining.Requests);
    }

    [Theory]
    [InlineData("""{"error":{"message":"m","type":"server_error","param":null,"code":"shutting_down"}}""", true)]
    [InlineData("""{"error":{"message":"m","type":"server_error","param":null,"code":"queue_full"}}""", false)]
    [InlineData("""{"error":{"code":null}}""", false)]
    [InlineData("""[1,2]""", false)]
    [InlineData("""not json""", false)]
    public async Task IsShuttingDown_ReadsTheErrorCode(string body, bool expected)
    {
        using var response = new HttpResponseMessage(HttpStatusCode.ServiceUnavailable)
        {
            Content = new StringContent(body, Encoding.UTF8, new MediaTypeHeaderValue("application/json")),
        };

        Assert.Equal(expected, await ServerDrainEjection.IsShuttingDownAsync(response, CancellationToken.None));
    }

    [Fact]
    public async Task IsShuttingDown_ALongBody_IsNotRead()
    {
        var body = """{"error":{"code":"shutting_down","message":" """ + new string('x', ServerDrainEjection.MaxErrorBodyBytes) + "\"}}";
        using var response = new HttpResponseMessage(HttpStatusCode.ServiceUnavailable) { Content = new StringContent(body) };

        Assert.False(await ServerDrainEjection.IsShuttingDownAsync(response, CancellationToken.None));
    }
}
