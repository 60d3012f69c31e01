using Microsoft.Extensions.Caching.Distributed;
using LlmAspire.Gateway.Redis;

namespace LlmAspire.Gateway.Caching;

/// <summary>
/// HybridCache's L2: Redis behind <see cref="RedisCircuitBreaker"/>. Failures and timeouts read as misses and
/// dropped writes, quickly, so a down or slow Redis costs at most one <see cref="GatewayRedisOptions.OperationTimeout"/>
/// per <see cref="GatewayRedisOptions.BreakDuration"/>. (HybridCache itself logs and continues on L2 errors, but would
/// wait for each one.) Only the byte[] API is offered: an abandoned operation must not write into a pooled buffer.
/// </summary>
internal sealed class ResilientDistributedCache(IDistributedCache inner, RedisCircuitBreaker breaker) : IDistributedCache
{
    public byte[]? Get(string key) =>
        breaker.TryRun("cache read", () => inner.Get(key), out var value) ? value : null;

    public async Task<byte[]?> GetAsync(string key, CancellationToken token = default)
    {
        var (_, value) = await breaker.TryRunAsync("cache read", ct => inner.GetAsync(key, ct), token);
        return value;
    }

    public void Set(string key, byte[] value, DistributedCacheEntryOptions options) =>
        breaker.TryRun("cache write", () => { inner.Set(key, value, options); return true; }, out _);

    public Task SetAsync(string key, byte[] value, DistributedCacheEntryOptions options, CancellationToken token = default) =>
        breaker.TryRunAsync("cache write", ct => inner.SetAsync(key, value, options, ct), token);

    public void Refresh(string key) =>
        breaker.TryRun("cache refresh", () => { inner.Refresh(key); return true; }, out _);

    public Task RefreshAsync(string key, CancellationToken token = default) =>
        breaker.TryRunAsync("cache refresh", ct => inner.RefreshAsync(key, ct), token);

    public void Remove(string key) =>
        breaker.TryRun("cache remove", () => { inner.Remove(key); return true; }, out _);

    public Task RemoveAsync(string key, CancellationToken token = default) =>
        breaker.TryRunAsync("cache remove", ct => inner.RemoveAsync(key, ct), token);
}
