using Microsoft.Extensions.DependencyInjection.Extensions;
using StackExchange.Redis;

namespace LlmAspire.Gateway.Redis;

/// <summary>The gateway's one Redis connection, shared by the response cache, the stored responses and the rate limits.</summary>
public static class GatewayRedisExtensions
{
    /// <summary>
    /// Adds Aspire's Redis client for the connection string <c>cache</c> when there is one, with short timeouts,
    /// <c>AbortOnConnectFail=false</c> and fail-fast commands while disconnected, connected at startup
    /// (<see cref="RedisWarmup"/>), and no health check (the gateway
    /// keeps serving without Redis, so Redis must not make it unhealthy). Idempotent; false when no connection string.
    /// </summary>
    public static bool AddGatewayRedis(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (!builder.Services.Any(service => service.ServiceType == typeof(RedisCircuitBreaker)))
        {
            builder.Services.AddOptions<GatewayRedisOptions>()
                .BindConfiguration(GatewayRedisOptions.SectionName)
                .Validate(GatewayRedisOptions.IsValid, GatewayRedisOptions.ValidationMessage)
                .ValidateOnStart();
            builder.Services.TryAddSingleton(TimeProvider.System);
            builder.Services.AddSingleton<RedisCircuitBreaker>();
        }

        if (string.IsNullOrWhiteSpace(builder.Configuration.GetConnectionString(GatewayRedisOptions.ConnectionName)))
        {
            return false;
        }

        if (builder.Services.Any(service => service.ServiceType == typeof(IConnectionMultiplexer)))
        {
            return true;
        }

        var redis = builder.Configuration.GetSection(GatewayRedisOptions.SectionName).Get<GatewayRedisOptions>() ?? new GatewayRedisOptions();
        builder.AddRedisClient(
            GatewayRedisOptions.ConnectionName,
            settings => settings.DisableHealthChecks = true,
            configuration =>
            {
                var operationMs = (int)Math.Ceiling(redis.OperationTimeout.TotalMilliseconds);
                configuration.AbortOnConnectFail = false;
                configuration.ConnectTimeout = (int)Math.Ceiling(redis.ConnectTimeout.TotalMilliseconds);
                configuration.ConnectRetry = 1;
                configuration.SyncTimeout = operationMs;
                configuration.AsyncTimeout = operationMs;
                configuration.BacklogPolicy = BacklogPolicy.FailFast;
            });
        builder.Services.AddHostedService<RedisWarmup>();
        return true;
    }
}
