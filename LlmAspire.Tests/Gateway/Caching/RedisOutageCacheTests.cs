using System.Diagnostics;
using System.Net;
using LlmAspire.Gateway.Auth;
using static LlmAspire.Tests.Gateway.Caching.ResponseCacheBehaviourTests;
using LlmAspire.Gateway.RateLimiting;

namespace LlmAspire.Tests.Gateway.Caching;

/// <summary>
/// Redis is an accelerator: with the test's own redis-server killed or frozen (SIGSTOP), the gateway keeps
/// answering 200 (from the model server or its L1) within about one operation timeout, and limits fail open.
/// </summary>
public sealed class RedisOutageCacheTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(60);

    private static readonly Dictionary<string, string?> s_settings = new()
    {
        ["Gateway:Redis:OperationTimeout"] = "00:00:00.300",
        ["Gateway:Redis:BreakDuration"] = "00:00:30",
        ["Gateway:RateLimits:RequestsPerMinute"] = "1000",
    };

    [Fact]
    public async Task Redis_Killed_GatewayKeepsAnswering200()
    {
        await using var backend = await FakeModelServer.StartAsync();
        await using var redis = await RedisServerProcess.StartAsync();
        await using var gateway = await TestGateway.StartAsync([backend.Url], redis.ConnectionString, s_settings);
        using var client = gateway.CreateClient();

        var (before, _) = await PostAsync(client, FakeModelServer.Body("before the outage"));
        Assert.Equal("MISS", CacheHeader(before));
        Assert.True(before.Headers.Contains("x-ratelimit-limit-requests"), "Limits are enforced while Redis answers.");

        await redis.StopAsync();

        var stopwatch = Stopwatch.StartNew();
        var (cachedBefore, _) = await PostAsync(client, FakeModelServer.Body("before the outage"));
        var (during, _) = await PostAsync(client, FakeModelServer.Body("during the outage"));
        var (duringAgain, _) = await PostAsync(client, FakeModelServer.Body("during the outage"));
        var (stream, streamBody) = await PostAsync(client, FakeModelServer.Body("stream during the outage", stream: true));
        stopwatch.Stop();

        Assert.Equal("HIT", CacheHeader(cachedBefore));
        Assert.Equal("MISS", CacheHeader(during));
        Assert.Equal("HIT", CacheHeader(duringAgain));
        Assert.Equal("MISS", CacheHeader(stream));
        Assert.EndsWith("data: [DONE]\n\n", streamBody, StringComparison.Ordinal);
        Assert.False(during.Headers.Contains("x-ratelimit-limit-requests"), "Limits fail open without Redis.");
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(5), $"Four requests took {stopwatch.Elapsed} without Redis.");
    }

    [Fact]
    public async Task Redis_Frozen_GatewayAnswersWithinTheOperationTimeout()
    {
        await using var backend = await FakeModelServer.StartAsync();
        await using var redis = await RedisServerProcess.StartAsync();
        await using var gateway = await TestGateway.StartAsync([backend.Url], redis.ConnectionString, s_settings);
        using var client = gateway.CreateClient();
        await PostAsync(client, FakeModelServer.Body("warm-up"));

        await redis.PauseAsync();
        var timings = new List<TimeSpan>();
        for (var i = 0; i < 5; i++)
        {
            var stopwatch = Stopwatch.StartNew();
            var (response, _) = await PostAsync(client, FakeModelServer.Body($"frozen {i}"));
            timings.Add(stopwatch.Elapsed);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        await redis.ResumeAsync();

        // The first request pays the timeouts (limit check, then cache read); the open circuit spares the rest.
        Assert.True(timings[0] < TimeSpan.FromSeconds(3), $"First request with Redis frozen took {timings[0]}.");
        Assert.All(timings.Skip(1), timing => Assert.True(timing < TimeSpan.FromSeconds(1), $"A later request took {timing}."));
    }

    [Fact]
    public async Task Redis_NotConfigured_CacheIsLocalAndLimitsPerInstance()
    {
        await using var backend = await FakeModelServer.StartAsync();
        await using var gateway = await TestGateway.StartAsync(
            [backend.Url],
            redis: null,
            new Dictionary<string, string?> { ["Gateway:RateLimits:RequestsPerMinute"] = "2" });
        using var client = gateway.CreateClient();

        await PostAsync(client, FakeModelServer.Body("local"));
        var (hit, _) = await PostAsync(client, FakeModelServer.Body("local"));
        var (limited, _) = await PostAsync(client, FakeModelServer.Body("local"), HttpStatusCode.TooManyRequests);

        Assert.Equal("HIT", CacheHeader(hit));
        Assert.IsType<MemoryRateLimitStore>(gateway.Services.GetService(typeof(IRateLimitStore)));
        Assert.True(limited.Headers.RetryAfter is not null);
    }
}
