using LlmAspire.Gateway.Caching;
using Microsoft.Extensions.DependencyInjection.Extensions;
using StackExchange.Redis;

namespace LlmAspire.Gateway.Auth;

/// <summary>Registers and adds API keys and per-key rate limits.</summary>
public static class AuthExtensions
{
    /// <summary>Binds <see cref="AuthOptions"/> (validated on start) and logs at start-up whether the gateway is open.</summary>
    public static TBuilder AddApiKeys<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddOptions<AuthOptions>()
            .BindConfiguration(AuthOptions.SectionName)
            .Validate(AuthOptions.IsValid, AuthOptions.ValidationMessage)
            .ValidateOnStart();
        builder.Services.TryAddSingleton<ApiKeyValidator>();
        builder.Services.TryAddSingleton<AuthMetrics>();
        builder.Services.AddHostedService<AuthStartupReport>();
        return builder;
    }

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
        builder.Services.TryAddSingleton<AuthMetrics>();
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

    /// <summary>Requires an API key on <c>/v1/*</c> (unless the gateway is open).</summary>
    public static IApplicationBuilder UseApiKeys(this IApplicationBuilder app) =>
        app.UseMiddleware<ApiKeyMiddleware>();

    /// <summary>Applies the per-key limits on <c>/v1/*</c>.</summary>
    public static IApplicationBuilder UseRateLimits(this IApplicationBuilder app) =>
        app.UseMiddleware<RateLimitMiddleware>();
}
