using System.Net;
using LlmAspire.Tests.Gateway.Routing;
using static LlmAspire.Tests.Gateway.Routing.InProcessGateway;

namespace LlmAspire.Tests.Gateway;

/// <summary>LoadAware end to end in process: the gateway reads fake servers' <c>/metrics</c> and routes by them.</summary>
public sealed class GatewayLoadBalancingTests
{
    private static string Load(int running, int waiting, double kvCache = 0) => $$"""
        # TYPE vllm:num_requests_running gauge
        vllm:num_requests_running{model_name="m"} {{running}}
        # TYPE vllm:num_requests_waiting gauge
        vllm:num_requests_waiting{model_name="m"} {{waiting}}
        # TYPE vllm:kv_cache_usage_perc gauge
        vllm:kv_cache_usage_perc{model_name="m"} {{kvCache.ToString(System.Globalization.CultureInfo.InvariantCulture)}}

        """;

    private static Dictionary<string, string?> Configuration(params string[] servers)
    {
        var configuration = new Dictionary<string, string?>
        {
            ["Gateway:DefaultModel"] = "m",
            ["Gateway:LoadBalancingPolicy"] = "LoadAware",
            ["Gateway:Routing:MetricsInterval"] = "00:00:00.050",
            ["Gateway:HealthCheckInterval"] = "01:00:00",
        };
        for (var i = 0; i < servers.Length; i++)
        {
            configuration[$"Gateway:ModelServers:{i}"] = servers[i];
        }

        return configuration;
    }

    [Fact]
    public async Task LoadAware_ServersReportTheirQueues_RequestsGoToTheIdleOne()
    {
        await using var busy = await FakeModelServer.StartAsync("busy", "m");
        await using var idle = await FakeModelServer.StartAsync("idle", "m");
        busy.Metrics = Load(running: 6, waiting: 3);
        idle.Metrics = Load(running: 1, waiting: 0, kvCache: 0.5);
        await using var gateway = await StartAsync(Configuration("busy", "idle"), busy, idle);
        using var client = gateway.CreateClient();
        await WaitUntilAsync(() => busy.MetricsReads > 1 && idle.MetricsReads > 1, TestTimeout, "both servers' metrics are read");

        Assert.All(await ServersOfAsync(client, 8), server => Assert.Equal("idle", server));

        // The load moves: so do the requests, once the next reading is in.
        busy.Metrics = Load(running: 0, waiting: 0);
        idle.Metrics = Load(running: 8, waiting: 4);
        var reads = idle.MetricsReads;
        await WaitUntilAsync(() => idle.MetricsReads > reads + 1, TestTimeout, "the new load is read");

        Assert.All(await ServersOfAsync(client, 8), server => Assert.Equal("busy", server));
    }

    [Fact]
    public async Task LoadAware_ServersWithoutMetrics_ShareRequests()
    {
        await using var a = await FakeModelServer.StartAsync("a", "m");
        await using var b = await FakeModelServer.StartAsync("b", "m");
        await using var gateway = await StartAsync(Configuration("a", "b"), a, b);
        using var client = gateway.CreateClient();
        await WaitUntilAsync(() => a.MetricsReads > 1 && b.MetricsReads > 1, TestTimeout, "both servers' /metrics are tried");

        var servers = await ServersOfAsync(client, 40);

        // Idle and unknown: every pick is a tie, broken at random.
        Assert.InRange(servers.Count(server => server == "a"), 5, 35);
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
