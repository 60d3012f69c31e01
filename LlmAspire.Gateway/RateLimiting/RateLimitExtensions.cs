using LlmAspire.Gateway.Redis;
using Microsoft.Extensions.DependencyInjection.Extensions;
using StackExchange.Redis;

namespace LlmAspire.Gateway.RateLimiting;

/// <summary>Registers and adds the per-key rate limits.</summary>
public static class RateLimitExtensions
{
    /// <summary>
    /// Binds <see cref="RateLimitOptions"/> and chooses the store: Redis (connection string <c>cache</c>, shared by
    /// every gateway) when configured, else this process's memory.
    /// </summary>
    public static TBuilder AddRateLimits<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddOptions<RateLimitOptions>()
            .BindConfiguration(RateLimitOptions.SectionName)
            .Validate(RateLimitOptions.IsValid, RateLimitOptions.ValidationMessage)
            .ValidateOnStart();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.TryAddSingleton<RateLimitMetrics>();
        if (builder.AddGatewayRedis())
        {
            builder.Services.TryAddSingleton<IRateLimitStore>(services => new RedisRateLimitStore(
                services.GetRequiredService<IConnectionMultiplexer>(),
                services.GetRequiredService<RedisCircuitBreaker>()));
        }
        else
        {
            builder.Services.TryAddSingleton<IRateLimitStore, MemoryRateLimitStore>();
        }

        return builder;
    }

    /// <summary>Applies the per-key limits on <c>/v1/*</c>.</summary>
    public static IApplicationBuilder UseRateLimits(this IApplicationBuilder app) =>
        app.UseMiddleware<RateLimitMiddleware>();
}
