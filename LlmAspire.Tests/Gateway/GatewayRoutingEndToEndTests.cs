using LlmAspire.Tests.Inference;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Aspire.Hosting.Testing;
using LlmAspire.Gateway.Routing;
using LlmAspire.Tests.AppHost;
using LlmAspire.Tests.Gateway.Routing;
using LlmAspire.Tests.ModelServer;
using Xunit.Abstractions;
using LlmAspire.Gateway.LoadBalancing;
using LlmAspire.Gateway.LoadPolling;

namespace LlmAspire.Tests.Gateway;

/// <summary>
/// Routing over the real model servers of the shared topology: the AppHost's gateway (LoadAware by default), and
/// in-process gateways with each policy in front of the same servers. Spreads are written to the test output.
/// </summary>
[Collection(AspireAppCollection.Name)]
public sealed class GatewayRoutingEndToEndTests(AspireAppFixture fixture, ITestOutputHelper output)
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromMinutes(1);

    private static IEnumerable<string> Servers => Enumerable.Range(0, AspireAppFixture.ModelServerCount).Select(AspireAppFixture.ModelServerName);

    [Stories260KFact]
    public async Task AppHostGateway_ConcurrentRequests_EveryServerReceivesTraffic()
    {
        using var client = fixture.CreateGatewayClient();
        var before = await SuccessCountsAsync();

        var served = await SendAsync(client, Enumerable.Range(0, 36).Select(i => $"Lily went to the park number {i}."), concurrency: 6);

        var after = await SuccessCountsAsync();
        var byHeader = Spread(served);
        var byMetrics = Servers.ToDictionary(server => server, server => after[server] - before[server]);
        output.WriteLine($"AppHost gateway (LoadAware), 36 requests x6: by x-llmaspire-server {Format(byHeader)}; by vllm:request_success_total {Format(byMetrics)}");
        Assert.All(Servers, server => Assert.True(byHeader.GetValueOrDefault(server) > 0, $"{server} got no request: {Format(byHeader)}"));
        Assert.All(Servers, server => Assert.True(byMetrics[server] > 0, $"{server} finished no request: {Format(byMetrics)}"));
    }

    [Stories260KTheory]
    [InlineData(LlmLoadBalancingPolicies.LoadAware)]
    [InlineData(LlmLoadBalancingPolicies.RoundRobin)]
    [InlineData(LlmLoadBalancingPolicies.PowerOfTwoChoices)]
    [InlineData(LlmLoadBalancingPolicies.PrefixAffinity)]
    public async Task Policy_DistinctPrompts_SpreadOverEveryServer(string policy)
    {
        await using var gateway = await StartGatewayAsync(policy);
        using var client = gateway.CreateClient();

        var served = await SendAsync(client, Enumerable.Range(0, 30).Select(i => $"Tom had a red ball number {i}."), concurrency: 3);

        var spread = Spread(served);
        output.WriteLine($"{policy}, 30 distinct prompts x3: {Format(spread)}");
        Assert.All(Servers, server => Assert.True(spread.GetValueOrDefault(server) > 0, $"{server} got no request: {Format(spread)}"));
        if (policy == LlmLoadBalancingPolicies.RoundRobin)
        {
            Assert.All(spread.Values, count => Assert.Equal(10, count));
        }
    }

    [Stories260KFact]
    public async Task PrefixAffinity_SharedPrefix_SticksToOneServerAndReusesItsCache()
    {
        // Longer than Gateway:Routing:PrefixLength (256): only the shared part decides the server.
        var prefix = "Once upon a time, there was a little girl named Lily. She loved to play outside in the park with her friends. "
            + "One day, she saw a big red ball under a tree. She ran to the ball and picked it up. Her mom said, "
            + "\"Lily, be careful with the ball.\" Lily smiled and said, \"I will, mom.\" Then she threw the ball to her dog. ";
        Assert.True(prefix.Length > new RoutingOptions().PrefixLength);
        var prompts = Enumerable.Range(0, 24).Select(i => prefix + $"\"Story {i}:").ToList();

        await using (var affinity = await StartGatewayAsync(LlmLoadBalancingPolicies.PrefixAffinity))
        {
            using var client = affinity.CreateClient();
            var before = await PrefixHitsAsync();
            var served = await SendAsync(client, prompts, concurrency: 3);
            var hits = Delta(before, await PrefixHitsAsync());
            var spread = Spread(served);
            output.WriteLine($"PrefixAffinity, 24 prompts sharing a {prefix.Length}-character prefix x3: {Format(spread)}; prefix-cache hit tokens {Format(hits)}");
            Assert.Single(spread);
        }

        await using (var roundRobin = await StartGatewayAsync(LlmLoadBalancingPolicies.RoundRobin))
        {
            using var client = roundRobin.CreateClient();
            var before = await PrefixHitsAsync();
            var served = await SendAsync(client, prompts.Select(prompt => prompt.Replace("Story", "Tale", StringComparison.Ordinal)), concurrency: 3);
            output.WriteLine($"RoundRobin, the same workload: {Format(Spread(served))}; prefix-cache hit tokens {Format(Delta(before, await PrefixHitsAsync()))}");
        }
    }

    [Stories260KFact]
    public async Task AppHostGateway_UnknownModel_Is404ModelNotFound()
    {
        using var client = fixture.CreateGatewayClient();

        using var response = await client.PostAsJsonAsync(
            new Uri("/v1/completions", UriKind.Relative),
            new Dictionary<string, object> { ["model"] = "gpt-5", ["prompt"] = "Hi", ["max_tokens"] = 4 }).WaitAsync(s_timeout);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        using var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync().WaitAsync(s_timeout));
        Assert.Equal("model_not_found", error.RootElement.GetProperty("error").GetProperty("code").GetString());
    }

    [Stories260KFact]
    public async Task AppHostGateway_StreamAbortedByTheClient_TheServerAbortsIt()
    {
        // Drain nothing on dispose: disposing the response must cut the connection, as a client that goes away does.
        using var client = new HttpClient(new SocketsHttpHandler { MaxResponseDrainSize = 0 })
        {
            BaseAddress = fixture.App.GetEndpoint("gateway", "http"),
        };
        var before = await AbortCountsAsync();
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/v1/completions", UriKind.Relative))
        {
            Content = JsonContent.Create(new Dictionary<string, object>
            {
                ["model"] = AspireAppFixture.ModelId,
                ["prompt"] = "Once upon a time",
                // 16 choices of 480 tokens: about a second of work for stories260K, so the abort lands mid-stream.
                ["max_tokens"] = 480,
                ["n"] = 16,
                ["temperature"] = 1.0,
                ["stream"] = true,
            }),
        };
        request.Headers.CacheControl = new System.Net.Http.Headers.CacheControlHeaderValue { NoStore = true };

        var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead).WaitAsync(s_timeout);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var server = Assert.Single(response.Headers.GetValues(RoutingHeader));
        var reader = new StreamReader(await response.Content.ReadAsStreamAsync().WaitAsync(s_timeout));
        Assert.StartsWith("data:", await reader.ReadLineAsync().WaitAsync(s_timeout), StringComparison.Ordinal);
        reader.Dispose();
        response.Dispose();
        request.Dispose();

        using var serverClient = fixture.CreateModelServerClient(IndexOf(server));
        await InProcessGateway.WaitUntilAsync(
            async () => await AbortCountAsync(serverClient) > before[server],
            TimeSpan.FromSeconds(20),
            $"{server} counts an aborted request");
        await InProcessGateway.WaitUntilAsync(
            async () => await RunningAsync(serverClient) == 0,
            TimeSpan.FromSeconds(20),
            $"{server} runs no request");
    }

    [Stories260KFact]
    public async Task Overhead_GatewayAgainstTheServerDirectly_IsMeasured()
    {
        await using var inProcess = await StartGatewayAsync(LlmLoadBalancingPolicies.LoadAware);
        using var direct = fixture.CreateModelServerClient(0);
        using var gateway = inProcess.CreateClient();
        using var appHostGateway = fixture.CreateGatewayClient();

        // Warm every path, then interleave them so that drift on this shared machine hits each alike.
        var latencies = new Dictionary<string, List<double>> { ["direct"] = [], ["gateway (routing only)"] = [], ["AppHost gateway"] = [] };
        for (var i = 0; i < 60; i++)
        {
            foreach (var (name, client) in new[] { ("direct", direct), ("gateway (routing only)", gateway), ("AppHost gateway", appHostGateway) })
            {
                var started = System.Diagnostics.Stopwatch.GetTimestamp();
                using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/v1/completions", UriKind.Relative))
                {
                    Content = JsonContent.Create(new Dictionary<string, object>
                    {
                        ["model"] = AspireAppFixture.ModelId,
                        ["prompt"] = $"Sue said {i}",
                        ["max_tokens"] = 1,
                        ["temperature"] = 0.8,
                    }),
                };
                request.Headers.CacheControl = new System.Net.Http.Headers.CacheControlHeaderValue { NoStore = true };
                using var response = await client.SendAsync(request).WaitAsync(s_timeout);
                await response.Content.ReadAsByteArrayAsync().WaitAsync(s_timeout);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                if (i >= 10)
                {
                    latencies[name].Add(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                }
            }
        }

        foreach (var (name, values) in latencies)
        {
            var sorted = values.Order().ToList();
            output.WriteLine($"{name}: median {sorted[sorted.Count / 2]:F2} ms, p90 {sorted[(int)(sorted.Count * 0.9)]:F2} ms over {sorted.Count} one-token completions");
        }

        var medianDirect = latencies["direct"].Order().ElementAt(25);
        var medianGateway = latencies["gateway (routing only)"].Order().ElementAt(25);
        Assert.True(medianGateway - medianDirect < 50, $"the gateway adds {medianGateway - medianDirect:F1} ms");
    }

    private const string RoutingHeader = "x-llmaspire-server";

    private Task<Microsoft.AspNetCore.Builder.WebApplication> StartGatewayAsync(string policy)
    {
        var configuration = new Dictionary<string, string?>
        {
            ["Gateway:LoadBalancingPolicy"] = policy,
            ["Gateway:DefaultModel"] = AspireAppFixture.ModelId,
        };
        var servers = Servers.ToList();
        for (var i = 0; i < servers.Count; i++)
        {
            configuration[$"Gateway:ModelServers:{i}"] = servers[i];
        }

        return InProcessGateway.StartAsync(
            configuration,
            servers.Select(server => (server, fixture.App.GetEndpoint(server, "http").ToString().TrimEnd('/'))));
    }

    /// <summary>Sends one uncached, sampled completion per prompt, <paramref name="concurrency"/> at a time; returns the server of each.</summary>
    private static async Task<List<string>> SendAsync(HttpClient client, IEnumerable<string> prompts, int concurrency)
    {
        var servers = new ConcurrentQueue<string>();
        await Parallel.ForEachAsync(
            prompts,
            new ParallelOptions { MaxDegreeOfParallelism = concurrency },
            async (prompt, cancellationToken) =>
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/v1/completions", UriKind.Relative))
                {
                    Content = JsonContent.Create(new Dictionary<string, object>
                    {
                        ["model"] = AspireAppFixture.ModelId,
                        ["prompt"] = prompt,
                        ["max_tokens"] = 16,
                        ["temperature"] = 0.8,
                    }),
                };
                request.Headers.CacheControl = new System.Net.Http.Headers.CacheControlHeaderValue { NoStore = true };
                using var response = await client.SendAsync(request, cancellationToken).WaitAsync(s_timeout, cancellationToken);
                var body = await response.Content.ReadAsStringAsync(cancellationToken).WaitAsync(s_timeout, cancellationToken);
                Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {body}");
                servers.Enqueue(Assert.Single(response.Headers.GetValues(RoutingHeader)));
            }).WaitAsync(TimeSpan.FromMinutes(3));
        return [.. servers];
    }

    private static Dictionary<string, int> Spread(IEnumerable<string> servers) =>
        servers.GroupBy(server => server).ToDictionary(group => group.Key, group => group.Count());

    private static string Format<T>(IReadOnlyDictionary<string, T> counts) =>
        string.Join(", ", counts.OrderBy(pair => pair.Key, StringComparer.Ordinal).Select(pair => $"{pair.Key}={pair.Value}"));

    private static Dictionary<string, double> Delta(Dictionary<string, double> before, Dictionary<string, double> after) =>
        after.ToDictionary(pair => pair.Key, pair => pair.Value - before[pair.Key]);

    private static int IndexOf(string server) => Servers.ToList().IndexOf(server);

    private async Task<Dictionary<string, double>> PerServerAsync(Func<ModelServerMetrics, double> read)
    {
        var values = new Dictionary<string, double>();
        for (var i = 0; i < AspireAppFixture.ModelServerCount; i++)
        {
            using var client = fixture.CreateModelServerClient(i);
            values[AspireAppFixture.ModelServerName(i)] = read(await ModelServerMetrics.ScrapeAsync(client).WaitAsync(s_timeout));
        }

        return values;
    }

    private Task<Dictionary<string, double>> SuccessCountsAsync() => PerServerAsync(metrics =>
        metrics.Value("vllm:request_success_total", ("finished_reason", "stop"))
        + metrics.Value("vllm:request_success_total", ("finished_reason", "length"))
        + metrics.Value("vllm:request_success_total", ("finished_reason", "abort")));

    private Task<Dictionary<string, double>> PrefixHitsAsync() => PerServerAsync(metrics => metrics.Value("vllm:prefix_cache_hits_total"));

    private Task<Dictionary<string, double>> AbortCountsAsync() =>
        PerServerAsync(metrics => metrics.Value("vllm:request_success_total", ("finished_reason", "abort")));

    private static async Task<double> AbortCountAsync(HttpClient client) =>
        (await ModelServerMetrics.ScrapeAsync(client).WaitAsync(s_timeout)).Value("vllm:request_success_total", ("finished_reason", "abort"));

    private static async Task<double> RunningAsync(HttpClient client) =>
        (await ModelServerMetrics.ScrapeAsync(client).WaitAsync(s_timeout)).Value(PrometheusLoadParser.RunningMetric);
}
