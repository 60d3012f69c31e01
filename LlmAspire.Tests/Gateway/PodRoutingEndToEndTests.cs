using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using LlmAspire.Gateway.LoadBalancing;
using LlmAspire.Gateway.LoadPolling;
using LlmAspire.Gateway.Routing;
using LlmAspire.Tests.AppHost;
using LlmAspire.Tests.Gateway.Routing;
using LlmAspire.Tests.ModelServer;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Model;

namespace LlmAspire.Tests.Gateway;

/// <summary>
/// Pod-level routing without Kubernetes. A fresh test name in <c>/etc/hosts</c> resolves, through the system resolver,
/// to three loopback addresses, each a real model server on the same port, as a headless Service's name resolves to
/// its ready pods. The gateway is configured with that one name (as an absolute URL, or as a service-discovery name
/// whose <c>services:</c> entry is the URL, as <c>deploy kubernetes</c> writes it) and routes to each address as its own
/// destination; an address taken off the name stops getting requests after the refresh, and one put back gets them
/// again. Requests are counted by each server's own <c>/metrics</c>.
/// </summary>
public sealed class PodRoutingEndToEndTests(LoopbackPodsFixture pods, ITestOutputHelper output) : IClassFixture<LoopbackPodsFixture>
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromMinutes(1);

    /// <summary>Much shorter than the default (2 s), so each change is seen soon; the waits below are bounded well above it.</summary>
    private static readonly TimeSpan s_refresh = TimeSpan.FromMilliseconds(300);

    [LoopbackPodsFact]
    public async Task RoundRobin_OneNameThreeAddresses_EachServesItsShare_OneTakenOffGetsNoMore_OnePutBackServesAgain()
    {
        using var hosts = HostsFileEntry.Add("pods", pods.Addresses);
        await using var gateway = await StartGatewayAsync($"http://{hosts.Name}:{pods.Port}", [], LlmLoadBalancingPolicies.RoundRobin);
        using var client = gateway.CreateClient();
        await WaitForPodsAsync(gateway, pods.Addresses);
        Assert.All(Destinations(gateway), destination =>
        {
            // Connected by address, still addressed by name: the Host header (and TLS SNI) is the configured name.
            Assert.Equal($"{hosts.Name}:{pods.Port}", destination.Model.Config.Host);
            Assert.EndsWith($"/{new Uri(destination.Model.Config.Address).Host}", DestinationMetadata.ServerName(destination), StringComparison.Ordinal);
        });

        var all = await ServedAsync(client, 30, "Tom had a red ball number");
        output.WriteLine($"three addresses, 30 requests: {Format(all)}");
        Assert.All(pods.Addresses, address => Assert.Equal(10, all[address]));

        var removed = pods.Addresses[2];
        hosts.Set(pods.Addresses.Take(2));
        await WaitForPodsAsync(gateway, pods.Addresses.Take(2));
        var two = await ServedAsync(client, 20, "Lily saw a big dog number");
        output.WriteLine($"{removed} taken off the name, 20 requests: {Format(two)}");
        Assert.Equal(0, two[removed]);
        Assert.All(pods.Addresses.Take(2), address => Assert.Equal(10, two[address]));

        hosts.Set(pods.Addresses);
        await WaitForPodsAsync(gateway, pods.Addresses);
        var back = await ServedAsync(client, 30, "Sue went to the park number");
        output.WriteLine($"{removed} put back, 30 requests: {Format(back)}");
        Assert.All(pods.Addresses, address => Assert.Equal(10, back[address]));
    }

    [LoopbackPodsFact]
    public async Task PrefixAffinity_PerPod_LoadReadOfEachPodTheNameGains_SharedPrefixSticksToOnePod_DistinctPromptsSpread()
    {
        using var hosts = HostsFileEntry.Add("pods", pods.Addresses.Take(2));
        await using var gateway = await StartGatewayAsync(
            "modelserver-0", [("modelserver-0", $"http://{hosts.Name}:{pods.Port}")], LlmLoadBalancingPolicies.PrefixAffinity);
        using var client = gateway.CreateClient();
        await WaitForPodsAsync(gateway, pods.Addresses.Take(2));
        Assert.All(Destinations(gateway), destination =>
        {
            // The Host header is the name that was looked up, which service discovery gave for modelserver-0.
            Assert.Equal($"{hosts.Name}:{pods.Port}", destination.Model.Config.Host);
            Assert.Equal($"modelserver-0/{new Uri(destination.Model.Config.Address).Host}", DestinationMetadata.ServerName(destination));
        });

        // The /metrics poller follows the set: the pod the name gains is read too, by its own address.
        hosts.Set(pods.Addresses);
        await WaitForPodsAsync(gateway, pods.Addresses);
        var store = gateway.Services.GetRequiredService<DestinationLoadStore>();
        await InProcessGateway.WaitUntilAsync(
            () => Destinations(gateway).All(destination => store.TryGet(destination, out var sample) && sample.Load.IsKnown),
            TimeSpan.FromSeconds(20),
            "every pod's /metrics has been read");

        var prefix = "Once upon a time, there was a little girl named Lily. She loved to play outside in the park with her friends. "
            + "One day, she saw a big red ball under a tree. She ran to the ball and picked it up. Her mom said, "
            + "\"Lily, be careful with the ball.\" Lily smiled and said, \"I will, mom.\" Then she threw the ball to her dog. ";
        Assert.True(prefix.Length > new RoutingOptions().PrefixLength);
        var shared = await ServedAsync(client, Enumerable.Range(0, 12).Select(i => prefix + $"\"Story {i}:"), concurrency: 1);
        output.WriteLine($"12 prompts sharing a {prefix.Length}-character prefix: {Format(shared)}");
        Assert.Single(shared, pair => pair.Value > 0);

        var distinct = await ServedAsync(client, Enumerable.Range(0, 45).Select(i => $"Ben found a shiny stone number {i}."), concurrency: 3);
        output.WriteLine($"45 distinct prompts: {Format(distinct)}");
        Assert.All(pods.Addresses, address => Assert.True(distinct[address] > 0, $"{address} got no request: {Format(distinct)}"));
    }

    private static Task<WebApplication> StartGatewayAsync(string server, IEnumerable<(string Name, string Url)> discovery, string policy) =>
        InProcessGateway.StartAsync(
            new Dictionary<string, string?>
            {
                ["Gateway:ModelServers:0"] = server,
                ["Gateway:DefaultModel"] = AspireAppFixture.ModelId,
                ["Gateway:LoadBalancingPolicy"] = policy,
                ["Gateway:Routing:DnsRefreshInterval"] = s_refresh.ToString(),
            },
            discovery);

    private static IReadOnlyList<DestinationState> Destinations(WebApplication gateway)
    {
        var lookup = gateway.Services.GetRequiredService<IProxyStateLookup>();
        Assert.True(lookup.TryGetCluster(ModelServerProxyConfig.ClusterId, out var cluster));
        return [.. cluster.Destinations.Values];
    }

    /// <summary>Waits (bounded) until the cluster's destinations are exactly one per address in <paramref name="addresses"/>.</summary>
    private static Task WaitForPodsAsync(WebApplication gateway, IEnumerable<IPAddress> addresses)
    {
        var expected = addresses.Select(address => address.ToString()).Order(StringComparer.Ordinal).ToList();
        return InProcessGateway.WaitUntilAsync(
            () => Destinations(gateway).Select(destination => new Uri(destination.Model.Config.Address).Host).Order(StringComparer.Ordinal).SequenceEqual(expected),
            TimeSpan.FromSeconds(15),
            $"the destinations are {string.Join(", ", expected)}");
    }

    private Task<Dictionary<IPAddress, double>> ServedAsync(HttpClient client, int count, string prompt) =>
        ServedAsync(client, Enumerable.Range(0, count).Select(i => $"{prompt} {i}."), concurrency: 3);

    /// <summary>Sends one uncached completion per prompt; returns how many each pod finished, by its own <c>/metrics</c>.</summary>
    private async Task<Dictionary<IPAddress, double>> ServedAsync(HttpClient client, IEnumerable<string> prompts, int concurrency)
    {
        var before = await SuccessCountsAsync();
        var statuses = new ConcurrentBag<HttpStatusCode>();
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
                        ["max_tokens"] = 8,
                        ["temperature"] = 0.8,
                    }),
                };
                using var response = await client.SendAsync(request, cancellationToken).WaitAsync(s_timeout, cancellationToken);
                await response.Content.ReadAsByteArrayAsync(cancellationToken).WaitAsync(s_timeout, cancellationToken);
                statuses.Add(response.StatusCode);
            }).WaitAsync(TimeSpan.FromMinutes(3));
        Assert.All(statuses, status => Assert.Equal(HttpStatusCode.OK, status));
        var after = await SuccessCountsAsync();
        return pods.Addresses.ToDictionary(address => address, address => after[address] - before[address]);
    }

    private async Task<Dictionary<IPAddress, double>> SuccessCountsAsync()
    {
        var counts = new Dictionary<IPAddress, double>();
        foreach (var address in pods.Addresses)
        {
            var metrics = await ModelServerMetrics.ScrapeAsync(pods.Client(address)).WaitAsync(s_timeout);
            counts[address] = metrics.Value("vllm:request_success_total", ("finished_reason", "stop"))
                + metrics.Value("vllm:request_success_total", ("finished_reason", "length"));
        }

        return counts;
    }

    private static string Format(Dictionary<IPAddress, double> counts) =>
        string.Join(", ", counts.Select(pair => $"{pair.Key}={pair.Value}"));
}
