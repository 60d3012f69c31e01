using LlmAspire.Tests.Inference;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Aspire.Hosting;
using Aspire.Hosting.Testing;
using LlmAspire.Gateway.Caching;
using LlmAspire.Gateway.Requests;
using LlmAspire.Tests.AppHost;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;
using Xunit.Abstractions;
using static LlmAspire.Tests.Gateway.Caching.ResponseCacheBehaviourTests;

namespace LlmAspire.Tests.Gateway.Caching;

/// <summary>
/// The cache against real processes: the shared topology's model servers (stories260K) and its Redis, behind
/// the topology's own gateway and behind in-process gateways (to run two over one Redis and count their results).
/// Every test uses its own revision, so entries never leak between tests or runs.
/// </summary>
[Collection(AspireAppCollection.Name)]
public sealed class ResponseCacheEndToEndTests(AspireAppFixture fixture, ITestOutputHelper output)
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromMinutes(1);

    [Stories260KFact]
    public async Task TopologyGateway_DeterministicRequestTwice_MissThenHitWithIdenticalBody()
    {
        using var client = fixture.CreateGatewayClient();
        var prompt = $"Once upon a time {Guid.NewGuid():N}";

        var (miss, missBody) = await PostAsync(client, Completion(prompt, stream: false, maxTokens: 24));
        var (hit, hitBody) = await PostAsync(client, Completion(prompt, stream: false, maxTokens: 24));

        Assert.Equal("MISS", CacheHeader(miss));
        Assert.Equal("HIT", CacheHeader(hit));
        Assert.Equal(missBody, hitBody);
    }

    [Stories260KFact]
    public async Task Cache_HitAgainstMiss_IsMeasurablyFaster()
    {
        await using var gateway = await StartGatewayAsync();
        using var client = gateway.CreateClient();
        var missTimes = new List<double>();
        var hitTimes = new List<double>();
        for (var i = 0; i < 5; i++)
        {
            var prompt = $"Once upon a time, number {i}";
            var stopwatch = Stopwatch.StartNew();
            var (miss, missBody) = await PostAsync(client, Completion(prompt, stream: false, maxTokens: 64));
            missTimes.Add(stopwatch.Elapsed.TotalMilliseconds);
            Assert.Equal("MISS", CacheHeader(miss));
            for (var j = 0; j < 20; j++)
            {
                stopwatch.Restart();
                var (hit, hitBody) = await PostAsync(client, Completion(prompt, stream: false, maxTokens: 64));
                hitTimes.Add(stopwatch.Elapsed.TotalMilliseconds);
                Assert.Equal("HIT", CacheHeader(hit));
                Assert.Equal(missBody, hitBody);
            }
        }

        var missMedian = Median(missTimes);
        var hitMedian = Median(hitTimes);
        output.WriteLine($"stories260K, max_tokens 64, in-process gateway over loopback HTTP: MISS median {missMedian:F2} ms (n={missTimes.Count}), "
            + $"HIT median {hitMedian:F3} ms, p90 {Percentile(hitTimes, 0.9):F3} ms (n={hitTimes.Count}); {missMedian / hitMedian:F0}x.");
        Assert.True(hitMedian < missMedian, $"HIT {hitMedian} ms is not faster than MISS {missMedian} ms.");
    }

    [Stories260KFact]
    public async Task Cache_StreamedRequest_IsReplayedAsTheSameValidSse()
    {
        await using var gateway = await StartGatewayAsync();
        using var client = gateway.CreateClient();

        var (miss, missBody) = await PostAsync(client, Completion("Once upon a time", stream: true, maxTokens: 32, includeUsage: true));
        var (hit, hitBody) = await PostAsync(client, Completion("Once upon a time", stream: true, maxTokens: 32, includeUsage: true));

        Assert.Equal("MISS", CacheHeader(miss));
        Assert.Equal("HIT", CacheHeader(hit));
        Assert.Equal("text/event-stream", hit.Content.Headers.ContentType?.MediaType);
        Assert.Equal(missBody, hitBody);
        var events = hitBody.Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("data: [DONE]", events[^1]);
        var text = string.Concat(events.SkipLast(1)
            .Select(e => JsonDocument.Parse(e["data: ".Length..]).RootElement.GetProperty("choices"))
            .SelectMany(choices => choices.EnumerateArray())
            .Select(choice => choice.GetProperty("text").GetString()));
        Assert.StartsWith(text, AppHost.GatewayEndToEndTests.KnownContinuation, StringComparison.Ordinal);
        Assert.Contains("\"usage\"", events[^2], StringComparison.Ordinal);
    }

    [Stories260KFact]
    public async Task Cache_Sampling_IsNeverCached()
    {
        await using var gateway = await StartGatewayAsync();
        using var client = gateway.CreateClient();

        var (first, _) = await PostAsync(client, Completion("Once upon a time", stream: false, maxTokens: 16, temperature: 0.9));
        var (second, _) = await PostAsync(client, Completion("Once upon a time", stream: false, maxTokens: 16, temperature: 0.9));

        Assert.Equal("BYPASS", CacheHeader(first));
        Assert.Equal("BYPASS", CacheHeader(second));
        Assert.Equal(0, gateway.CacheResults("hit"));
    }

    [Stories260KFact]
    public async Task Cache_TwoGatewayInstances_ShareEntriesThroughRedis()
    {
        var revision = Guid.NewGuid().ToString("N");
        await using var first = await StartGatewayAsync(revision);
        await using var second = await StartGatewayAsync(revision);
        using var firstClient = first.CreateClient();
        using var secondClient = second.CreateClient();

        var (miss, missBody) = await PostAsync(firstClient, Completion("One day", stream: false, maxTokens: 24));
        await WaitForL2Async(first, Completion("One day", stream: false, maxTokens: 24), revision);
        var (hit, hitBody) = await PostAsync(secondClient, Completion("One day", stream: false, maxTokens: 24));
        var (streamMiss, streamMissBody) = await PostAsync(secondClient, Completion("One day", stream: true, maxTokens: 24));
        await WaitForL2Async(second, Completion("One day", stream: true, maxTokens: 24), revision);
        var (streamHit, streamHitBody) = await PostAsync(firstClient, Completion("One day", stream: true, maxTokens: 24));

        Assert.Equal("MISS", CacheHeader(miss));
        Assert.Equal("HIT", CacheHeader(hit));
        Assert.Equal(missBody, hitBody);
        Assert.Equal("MISS", CacheHeader(streamMiss));
        Assert.Equal("HIT", CacheHeader(streamHit));
        Assert.Equal(streamMissBody, streamHitBody);
        Assert.Equal(2, first.CacheResults("hit") + second.CacheResults("hit"));
    }

    [Stories260KFact]
    public async Task Cache_ConcurrentIdenticalRequests_ReachAModelServerOnce()
    {
        await using var gateway = await StartGatewayAsync();
        using var client = gateway.CreateClient();

        var responses = await Task.WhenAll(Enumerable.Range(0, 10)
            .Select(_ => PostAsync(client, Completion("Lily and Ben", stream: false, maxTokens: 100)))).WaitAsync(s_timeout);

        Assert.Single(responses.Select(response => response.Body).Distinct());
        Assert.Equal(1, gateway.CacheResults("miss"));
        Assert.Equal(9, gateway.CacheResults("hit"));
    }

    /// <summary>
    /// HybridCache writes L2 after it has answered: wait (bounded) until the entry is in Redis. The gateway's connection
    /// gives Redis 500 ms a command (a cache must not hold a request up); on a busy machine one poll can take longer,
    /// which here only means asking again.
    /// </summary>
    private static async Task WaitForL2Async(TestGateway gateway, JsonContent content, string revision)
    {
        var body = await content.ReadAsByteArrayAsync().WaitAsync(s_timeout);
        var key = ResponseCacheKey.Create(CompletionRequestInfo.TryParse("/v1/completions", body)!, "anonymous", revision);
        var redis = gateway.Services.GetRequiredService<IConnectionMultiplexer>().GetDatabase();
        using var cancellation = new CancellationTokenSource(s_timeout);
        while (!await ExistsAsync())
        {
            await Task.Delay(20, cancellation.Token);
        }

        async Task<bool> ExistsAsync()
        {
            try
            {
                return await redis.KeyExistsAsync(key).WaitAsync(cancellation.Token);
            }
            catch (RedisTimeoutException)
            {
                return false;
            }
        }
    }

    private async Task<TestGateway> StartGatewayAsync(string? revision = null)
    {
        var redis = await fixture.App.GetConnectionStringAsync("cache").AsTask().WaitAsync(s_timeout);
        string[] servers = [.. Enumerable.Range(0, AspireAppFixture.ModelServerCount)
            .Select(index => fixture.App.GetEndpoint(AspireAppFixture.ModelServerName(index), "http").ToString().TrimEnd('/'))];
        return await TestGateway.StartAsync(
            servers,
            redis,
            new Dictionary<string, string?> { ["Gateway:Cache:Revision"] = revision ?? Guid.NewGuid().ToString("N") });
    }

    private static JsonContent Completion(string prompt, bool stream, int maxTokens, double temperature = 0, bool includeUsage = false)
    {
        var body = new Dictionary<string, object>
        {
            ["model"] = AspireAppFixture.ModelId,
            ["prompt"] = prompt,
            ["max_tokens"] = maxTokens,
            ["temperature"] = temperature,
            ["stream"] = stream,
        };
        if (includeUsage)
        {
            body["stream_options"] = new Dictionary<string, object> { ["include_usage"] = true };
        }

        return JsonContent.Create(body);
    }

    private static double Median(List<double> values) => Percentile(values, 0.5);

    private static double Percentile(List<double> values, double fraction)
    {
        var sorted = values.Order().ToList();
        return sorted[(int)Math.Min(sorted.Count - 1, Math.Floor(fraction * sorted.Count))];
    }
}
