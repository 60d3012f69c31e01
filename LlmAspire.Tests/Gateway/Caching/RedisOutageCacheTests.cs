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

    /// <summary>A short break: a first Redis call that a busy host makes too slow closes again soon.</summary>
    private static readonly Dictionary<string, string?> s_killedSettings = new(s_settings)
    {
        ["Gateway:Redis:BreakDuration"] = "00:00:02",
    };

    [Fact]
    public async Task Redis_Killed_GatewayKeepsAnswering200()
    {
        await using var backend = await FakeModelServer.StartAsync();
        await using var redis = await RedisServerProcess.StartAsync();
        await using var gateway = await TestGateway.StartAsync([backend.Url], redis.ConnectionString, s_killedSettings);
        using var client = gateway.CreateClient();
        await WaitUntilLimitsAreEnforcedAsync(client);

        var (before, _) = await PostAsync(client, FakeModelServer.Body("before the outage"));
        Assert.Equal("MISS", CacheHeader(before));
        Assert.True(before.Headers.Contains("x-ratelimit-limit-requests"), "Limits are enforced while Redis answers.");

        await redis.StopAsync();

        var stopwatch = Stopwatch.StartNew();
        await using var stalls = new ClientStalls(stopwatch);
        var (cachedBefore, _) = await PostAsync(client, FakeModelServer.Body("before the outage"));
        var (during, _) = await PostAsync(client, FakeModelServer.Body("during the outage"));
        var (duringAgain, _) = await PostAsync(client, FakeModelServer.Body("during the outage"));
        var (stream, streamBody) = await PostAsync(client, FakeModelServer.Body("stream during the outage", stream: true));
        var elapsed = stopwatch.Elapsed;
        var stalled = stalls.Within(TimeSpan.Zero, elapsed);

        Assert.Equal("HIT", CacheHeader(cachedBefore));
        Assert.Equal("MISS", CacheHeader(during));
        Assert.Equal("HIT", CacheHeader(duringAgain));
        Assert.Equal("MISS", CacheHeader(stream));
        Assert.EndsWith("data: [DONE]\n\n", streamBody, StringComparison.Ordinal);
        Assert.False(during.Headers.Contains("x-ratelimit-limit-requests"), "Limits fail open without Redis.");
        Assert.True(elapsed - stalled < TimeSpan.FromSeconds(5), $"Four requests took {elapsed} without Redis, {stalled} of which this process stood still ({stalls.Describe()}).");
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
        var clock = Stopwatch.StartNew();
        await using var stalls = new ClientStalls(clock);
        var timings = new List<TimeSpan>();
        for (var i = 0; i < 5; i++)
        {
            var start = clock.Elapsed;
            var (response, _) = await PostAsync(client, FakeModelServer.Body($"frozen {i}"));
            var end = clock.Elapsed;
            timings.Add(end - start - stalls.Within(start, end));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        await redis.ResumeAsync();

        // The first request pays the timeouts (limit check, then cache read); the open circuit spares the rest. Times
        // are without the intervals this process itself stood still (ClientStalls): the gateway runs in it.
        Assert.True(timings[0] < TimeSpan.FromSeconds(3), $"First request with Redis frozen took {timings[0]}; this process: {stalls.Describe()}.");
        Assert.All(timings.Skip(1), timing => Assert.True(timing < TimeSpan.FromSeconds(1), $"A later request took {timing}; this process: {stalls.Describe()}."));
    }

    [Fact]
    public async Task Redis_DownAtStartup_GatewayStartsAndAnswers200()
    {
        await using var backend = await FakeModelServer.StartAsync();
        var nobody = $"127.0.0.1:{RedisServerProcess.FreePort()}";
        var settings = new Dictionary<string, string?>(s_settings) { ["Gateway:Redis:ConnectTimeout"] = "00:00:01" };

        var stopwatch = Stopwatch.StartNew();
        await using var stalls = new ClientStalls(stopwatch);
        await using var gateway = await TestGateway.StartAsync([backend.Url], nobody, settings);
        var started = stopwatch.Elapsed;
        var stalled = stalls.Within(TimeSpan.Zero, started);
        using var client = gateway.CreateClient();
        var (response, _) = await PostAsync(client, FakeModelServer.Body("no redis at startup"));

        // The startup ping waits one connect timeout plus one operation timeout at most, then gives up. The gateway
        // starts in this process, so the time its thread pool stood still (tests of other collections beside it on a
        // busy CI host: one clone run took 23 s here) is not the gateway's.
        Assert.True(
            started - stalled < TimeSpan.FromSeconds(10),
            $"The gateway took {started} to start without Redis, {stalled} of which this process stood still ({stalls.Describe()}).");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(response.Headers.Contains("x-ratelimit-limit-requests"), "Limits fail open without Redis.");
    }

    /// <summary>
    /// Until a request comes back with the limit headers (Redis answered its script in time), with bodies of their own
    /// so that the test's cache keys stay fresh; a try that Redis answered too slowly waits out the short break.
    /// </summary>
    private static async Task WaitUntilLimitsAreEnforcedAsync(HttpClient client)
    {
        var deadline = Stopwatch.StartNew();
        for (var attempt = 0; ; attempt++)
        {
            var (response, _) = await PostAsync(client, FakeModelServer.Body($"warm-up {attempt}"));
            if (response.Headers.Contains("x-ratelimit-limit-requests"))
            {
                return;
            }

            Assert.True(deadline.Elapsed < s_timeout, $"Limits were not enforced within {s_timeout} although Redis runs.");
            await Task.Delay(TimeSpan.FromSeconds(2.5));
        }
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
