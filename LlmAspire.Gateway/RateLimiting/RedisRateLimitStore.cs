using System.Globalization;
using LlmAspire.Gateway.Caching;
using StackExchange.Redis;
using LlmAspire.Gateway.Redis;

namespace LlmAspire.Gateway.RateLimiting;

/// <summary>
/// The windows' counts in Redis, shared by every gateway instance: one Lua script reads both windows of both
/// budgets, decides as <see cref="SlidingWindow.Allows"/> does and spends, atomically. A key's counters share a
/// hash slot (<c>{id}</c>), so the script also runs on a cluster. When Redis does not answer within
/// <see cref="GatewayRedisOptions.OperationTimeout"/> the store answers null (the middleware lets the request through).
/// Token corrections are group-committed: while one correction round trip is in flight, the corrections that arrive
/// queue and go together in the next one (one script call per API key, applied in arrival order), so under load a
/// gateway makes about one Redis call per request instead of two, and an idle one sends each correction at once.
/// </summary>
public sealed class RedisRateLimitStore(IConnectionMultiplexer redis, RedisCircuitBreaker breaker) : IRateLimitStore
{
    /// <summary>Keys: requests previous, requests current, tokens previous, tokens current. Args: limits, cost, weight, ttl.</summary>
    private const string AcquireScript = """
        local rp = tonumber(redis.call('GET', KEYS[1]) or '0')
        local rc = tonumber(redis.call('GET', KEYS[2]) or '0')
        local tp = tonumber(redis.call('GET', KEYS[3]) or '0')
        local tc = tonumber(redis.call('GET', KEYS[4]) or '0')
        local rlimit = tonumber(ARGV[1])
        local tlimit = tonumber(ARGV[2])
        local tcost = tonumber(ARGV[3])
        local weight = tonumber(ARGV[4])
        local allowed = 1
        if rlimit > 0 and rp * weight + rc + 1 > rlimit + 1e-9 then allowed = 0 end
        if tlimit > 0 and tp * weight + tc + tcost > tlimit + 1e-9 then allowed = 0 end
        if allowed == 1 then
          if rlimit > 0 then
            rc = redis.call('INCRBY', KEYS[2], 1)
            redis.call('PEXPIRE', KEYS[2], ARGV[5])
          end
          if tlimit > 0 and tcost > 0 then
            tc = redis.call('INCRBY', KEYS[4], tcost)
            redis.call('PEXPIRE', KEYS[4], ARGV[5])
          end
        end
        return {allowed, rp, rc, tp, tc}
        """;

    /// <summary>Each KEYS[i] (one key's token counters, so one hash slot) corrected by ARGV[i], in order, never below zero.</summary>
    private const string AdjustScript = """
        for i = 1, #KEYS do
          if redis.call('EXISTS', KEYS[i]) == 1 then
            local v = redis.call('INCRBY', KEYS[i], ARGV[i])
            if v < 0 then redis.call('SET', KEYS[i], 0, 'KEEPTTL') end
          end
        end
        return 0
        """;

    /// <summary>Most corrections of one key sent in one script call.</summary>
    private const int MaxCorrectionsPerCall = 256;

    private readonly Lock _gate = new();
    private List<(string Identity, RedisKey Key, long Delta)> _pending = [];
    private TaskCompletionSource? _pendingSent;
    private bool _sending;

    /// <summary>Counters outlive their window by one more, while they weigh on the next.</summary>
    private static readonly long s_ttlMs = (long)(SlidingWindow.Minute * 2).TotalMilliseconds + 5_000;

    /// <summary>The Redis key of a counter.</summary>
    public static string Key(string identity, char kind, long window) =>
        string.Create(CultureInfo.InvariantCulture, $"llmaspire:ratelimit:{{{identity}}}:{kind}:{window}");

    /// <inheritdoc />
    public async Task<RateLimitCounts?> TryAcquireAsync(RateLimitRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        RedisKey[] keys =
        [
            Key(request.Identity, 'r', request.WindowIndex - 1),
            Key(request.Identity, 'r', request.WindowIndex),
            Key(request.Identity, 't', request.WindowIndex - 1),
            Key(request.Identity, 't', request.WindowIndex),
        ];
        RedisValue[] values =
        [
            request.RequestLimit,
            request.TokenLimit,
            request.TokenCost,
            request.PreviousWeight.ToString("R", CultureInfo.InvariantCulture),
            s_ttlMs,
        ];

        var (succeeded, result) = await breaker.TryRunAsync(
            "rate limit check",
            _ => redis.GetDatabase().ScriptEvaluateAsync(AcquireScript, keys, values),
            cancellationToken);
        if (!succeeded || result is null || result.Resp2Type != ResultType.Array)
        {
            return null;
        }

        var counts = (RedisResult[])result!;
        return new RateLimitCounts((long)counts[0] == 1, (long)counts[1], (long)counts[2], (long)counts[3], (long)counts[4]);
    }

    /// <inheritdoc />
    /// <remarks>The task ends when the round trip that carried this correction has ended (or failed, which is logged by the breaker).</remarks>
    public Task AdjustTokensAsync(string identity, long windowIndex, long delta, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(identity);
        Task sent;
        bool start;
        lock (_gate)
        {
            _pending.Add((identity, Key(identity, 't', windowIndex), delta));
            _pendingSent ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            sent = _pendingSent.Task;
            start = !_sending;
            _sending = true;
        }

        if (start)
        {
            // Outside the lock: the first call is written to Redis before this returns.
            _ = SendCorrectionsAsync();
        }

        return sent;
    }

    /// <summary>Sends what is queued, then what queued meanwhile, until nothing is; one sender at a time.</summary>
    private async Task SendCorrectionsAsync()
    {
        while (true)
        {
            List<(string Identity, RedisKey Key, long Delta)> batch;
            TaskCompletionSource sent;
            lock (_gate)
            {
                if (_pending.Count == 0)
                {
                    _sending = false;
                    return;
                }

                (batch, _pending) = (_pending, []);
                sent = _pendingSent!;
                _pendingSent = null;
            }

            try
            {
                // A key's counters share a hash slot; different keys may not, so each key gets its own call.
                await Task.WhenAll(batch.GroupBy(correction => correction.Identity, StringComparer.Ordinal)
                    .SelectMany(corrections => corrections.Chunk(MaxCorrectionsPerCall))
                    .Select(chunk => breaker.TryRunAsync(
                        "rate limit correction",
                        _ => redis.GetDatabase().ScriptEvaluateAsync(
                            AdjustScript, [.. chunk.Select(correction => correction.Key)], [.. chunk.Select(correction => (RedisValue)correction.Delta)]),
                        CancellationToken.None)));
            }
            finally
            {
                sent.TrySetResult();
            }
        }
    }
}
