using LlmAspire.Gateway.Redis;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace LlmAspire.Gateway.Responses;

/// <summary>
/// Where stored responses live, under <c>llmaspire:responses:v1:{caller}:{id}</c> (the caller is the API key's short
/// hash or <c>anonymous</c>, so one key never reads another's), each for <see cref="ResponsesOptions.TimeToLive"/>.
/// Every entry goes to this process's memory and, when the gateway has Redis, to Redis, which every gateway shares.
/// Redis answers reads while it is up (a miss there is a miss, so a DELETE through another gateway holds); the memory
/// copy answers only while Redis does not (<see cref="RedisCircuitBreaker"/>), so a conversation continues on the
/// gateway that stored its last turn. A DELETE made while Redis is down reaches only this process's copy.
/// </summary>
internal sealed class StoredResponseStore : IDisposable
{
    /// <summary>The prefix of every stored response's key.</summary>
    public const string KeyPrefix = "llmaspire:responses:v1:";

    private readonly MemoryCache _memory;
    private readonly IConnectionMultiplexer? _redis;
    private readonly RedisCircuitBreaker _breaker;
    private readonly TimeSpan _timeToLive;

    public StoredResponseStore(IOptions<ResponsesOptions> options, IConnectionMultiplexer? redis, RedisCircuitBreaker breaker)
    {
        ArgumentNullException.ThrowIfNull(options);
        _memory = new MemoryCache(new MemoryCacheOptions { SizeLimit = options.Value.LocalSizeLimitBytes });
        _redis = redis;
        _breaker = breaker;
        _timeToLive = options.Value.TimeToLive;
    }

    /// <summary>The key of response <paramref name="id"/> of <paramref name="callerId"/>.</summary>
    public static string Key(string callerId, string id) => KeyPrefix + callerId + ":" + id;

    /// <summary>The caller's entry for <paramref name="id"/>; null when there is none (unknown, expired, deleted, another key's).</summary>
    public async Task<StoredResponse?> GetAsync(string callerId, string id, CancellationToken cancellationToken)
    {
        var key = Key(callerId, id);
        if (_redis is not null)
        {
            var (answered, value) = await _breaker.TryRunAsync(
                "stored response read", _ => _redis.GetDatabase().StringGetAsync(key), cancellationToken);
            if (answered)
            {
                return value.IsNull ? null : StoredResponse.Deserialize((byte[])value!);
            }
        }

        return _memory.TryGetValue(key, out byte[]? local) && local is not null ? StoredResponse.Deserialize(local) : null;
    }

    /// <summary>Stores <paramref name="entry"/> for <see cref="ResponsesOptions.TimeToLive"/>.</summary>
    public async Task SetAsync(string callerId, string id, StoredResponse entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var key = Key(callerId, id);
        var bytes = entry.Serialize();
        _memory.Set(key, bytes, new MemoryCacheEntryOptions { Size = bytes.Length, AbsoluteExpirationRelativeToNow = _timeToLive });
        if (_redis is not null)
        {
            await _breaker.TryRunAsync(
                "stored response write", _ => _redis.GetDatabase().StringSetAsync(key, bytes, _timeToLive), CancellationToken.None);
        }
    }

    /// <summary>Removes the caller's entry; false when there was none.</summary>
    public async Task<bool> RemoveAsync(string callerId, string id)
    {
        var key = Key(callerId, id);
        var local = _memory.TryGetValue(key, out _);
        _memory.Remove(key);
        if (_redis is not null)
        {
            var (answered, removed) = await _breaker.TryRunAsync(
                "stored response delete", _ => _redis.GetDatabase().KeyDeleteAsync(key), CancellationToken.None);
            if (answered)
            {
                return removed;
            }
        }

        return local;
    }

    public void Dispose() => _memory.Dispose();
}
