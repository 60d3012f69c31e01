using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.StackExchangeRedis;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using LlmAspire.Gateway.Redis;

namespace LlmAspire.Gateway.Caching;

/// <summary>Registers and adds the response cache.</summary>
public static class ResponseCacheExtensions
{
    /// <summary>
    /// Binds <see cref="CacheOptions"/> (validated on start) and adds HybridCache: L1 in this process's memory
    /// (bounded by <see cref="CacheOptions.LocalSizeLimitBytes"/>), L2 in Redis through Aspire's
    /// <see cref="IConnectionMultiplexer"/> (connection string <c>cache</c>) when configured, guarded by
    /// <see cref="ResilientDistributedCache"/>. Without a connection string the cache is L1 only.
    /// </summary>
    public static TBuilder AddResponseCache<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddOptions<CacheOptions>()
            .BindConfiguration(CacheOptions.SectionName)
            .Validate(CacheOptions.IsValid, CacheOptions.ValidationMessage)
            .ValidateOnStart();
        var options = builder.Configuration.GetSection(CacheOptions.SectionName).Get<CacheOptions>() ?? new CacheOptions();

        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.TryAddSingleton<CacheMetrics>();
        builder.Services.AddMemoryCache(memory => memory.SizeLimit = options.LocalSizeLimitBytes);
        if (builder.AddGatewayRedis())
        {
            builder.Services.AddSingleton<IDistributedCache>(services => new ResilientDistributedCache(
                new RedisCache(Options.Create(new RedisCacheOptions
                {
                    ConnectionMultiplexerFactory = () => Task.FromResult(services.GetRequiredService<IConnectionMultiplexer>()),
                })),
                services.GetRequiredService<RedisCircuitBreaker>()));
        }

        builder.Services.AddHybridCache(hybrid =>
            {
                // The entry's own framing on top of the body; bodies above MaxEntryBytes are never offered.
                hybrid.MaximumPayloadBytes = options.MaxEntryBytes + (64 * 1024);
                hybrid.MaximumKeyLength = 256;
                hybrid.DefaultEntryOptions = new() { Expiration = options.Ttl, LocalCacheExpiration = options.EffectiveLocalTtl };
            })
            .AddSerializer<CachedResponse, CachedResponseSerializer>();
        return builder;
    }

    /// <summary>Answers deterministic completion requests from the cache (see <see cref="ResponseCacheMiddleware"/>).</summary>
    public static IApplicationBuilder UseResponseCache(this IApplicationBuilder app) =>
        app.UseMiddleware<ResponseCacheMiddleware>();
}
