using LlmAspire.Gateway.RateLimiting;
using LlmAspire.Gateway.Redis;
using LlmAspire.Tests.Gateway.Caching;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace LlmAspire.Tests.Gateway.RateLimiting;

/// <summary>The Redis store against the test's own redis-server: token corrections sent together still land exactly.</summary>
public sealed class RedisRateLimitStoreTests : IAsyncLifetime
{
    private RedisServerProcess? _redis;
    private ConnectionMultiplexer? _connection;

    private IDatabase Database => _connection!.GetDatabase();

    public async Task InitializeAsync()
    {
        _redis = await RedisServerProcess.StartAsync();
        _connection = await ConnectionMultiplexer.ConnectAsync(_redis.ConnectionString);
    }

    public async Task DisposeAsync()
    {
        if (_connection is not null)
        {
            await _connection.DisposeAsync();
        }

        if (_redis is not null)
        {
            await _redis.DisposeAsync();
        }
    }

    [Fact]
    public async Task Corrections_ArrivingTogether_ShareRoundTrips_AndEachKeyGetsItsOwnSum()
    {
        var store = new RedisRateLimitStore(
            _connection!, new RedisCircuitBreaker(TimeProvider.System, Options.Create(new GatewayRedisOptions()), NullLogger<RedisCircuitBreaker>.Instance));
        const long Window = 29_000_000;
        foreach (var identity in new[] { "alpha", "beta" })
        {
            var counts = await store.TryAcquireAsync(new RateLimitRequest(identity, Window, 0.5, 0, 1_000_000, 1_000), CancellationToken.None);
            Assert.Equal(1_000, counts!.Value.CurrentTokens);
        }

        await Database.ExecuteAsync("CONFIG", "RESETSTAT");
        var corrections = new List<Task>();
        for (var i = 0; i < 300; i++)
        {
            corrections.Add(store.AdjustTokensAsync("alpha", Window, -1, CancellationToken.None));
            if (i % 3 == 0)
            {
                corrections.Add(store.AdjustTokensAsync("beta", Window, 2, CancellationToken.None));
            }
        }

        await Task.WhenAll(corrections);

        Assert.Equal(700, (long)await Database.StringGetAsync(RedisRateLimitStore.Key("alpha", 't', Window)));
        Assert.Equal(1_200, (long)await Database.StringGetAsync(RedisRateLimitStore.Key("beta", 't', Window)));
        var scriptCalls = ScriptCalls((string)(await Database.ExecuteAsync("INFO", "commandstats"))!);
        Assert.InRange(scriptCalls, 2, 20);

        // Applied in order and never below zero, as one at a time would be.
        await Task.WhenAll(
            store.AdjustTokensAsync("alpha", Window, -5_000, CancellationToken.None),
            store.AdjustTokensAsync("alpha", Window, 40, CancellationToken.None));
        Assert.Equal(40, (long)await Database.StringGetAsync(RedisRateLimitStore.Key("alpha", 't', Window)));

        // A window nobody reserved in stays absent.
        await store.AdjustTokensAsync("gamma", Window, 5, CancellationToken.None);
        Assert.False(await Database.KeyExistsAsync(RedisRateLimitStore.Key("gamma", 't', Window)));
    }

    /// <summary>EVAL and EVALSHA calls since the last RESETSTAT.</summary>
    private static long ScriptCalls(string commandStats) =>
        commandStats.Split('\n')
            .Where(line => line.StartsWith("cmdstat_eval:", StringComparison.Ordinal) || line.StartsWith("cmdstat_evalsha:", StringComparison.Ordinal))
            .Sum(line => long.Parse(line.Split("calls=")[1].Split(',')[0], System.Globalization.CultureInfo.InvariantCulture));
}
