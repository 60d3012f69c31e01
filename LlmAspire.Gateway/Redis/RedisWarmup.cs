using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace LlmAspire.Gateway.Redis;

/// <summary>
/// Connects to Redis and pings it while the gateway starts, before it takes requests. Without this the first
/// request pays for connecting and for the client's first round trip; on a busy host that can exceed
/// <see cref="GatewayRedisOptions.OperationTimeout"/>, which opens the circuit, so a gateway that just started would
/// skip its rate limits and shared cache for one <see cref="GatewayRedisOptions.BreakDuration"/>. Waits at most
/// <see cref="GatewayRedisOptions.ConnectTimeout"/> plus one operation timeout; a Redis that is down or slow does not
/// stop the gateway from starting, and does not open the circuit either (the first request decides).
/// </summary>
internal sealed partial class RedisWarmup(IServiceProvider services, IOptions<GatewayRedisOptions> options, ILogger<RedisWarmup> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var redis = options.Value;
        var pending = Task.Run(
            async () =>
            {
                var multiplexer = services.GetRequiredService<IConnectionMultiplexer>();
                return await multiplexer.GetDatabase().PingAsync();
            },
            cancellationToken);
        try
        {
            var latency = await pending.WaitAsync(redis.ConnectTimeout + redis.OperationTimeout, cancellationToken);
            LogReady(logger, latency.TotalMilliseconds);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception exception)
        {
            _ = pending.ContinueWith(static task => _ = task.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            LogNotReady(logger, exception.GetType().Name, exception.Message);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Redis connected at startup (ping {LatencyMs:F1} ms).")]
    private static partial void LogReady(ILogger logger, double latencyMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Redis did not answer at startup ({ExceptionType}: {ExceptionMessage}); the gateway starts anyway and tries it on the first request.")]
    private static partial void LogNotReady(ILogger logger, string exceptionType, string exceptionMessage);
}
