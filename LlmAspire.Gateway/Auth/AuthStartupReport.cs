using Microsoft.Extensions.Options;
using LlmAspire.Gateway.RateLimiting;

namespace LlmAspire.Gateway.Auth;

/// <summary>Says at start-up whether the gateway needs keys (naming keys only by short hash) and what its limits are.</summary>
internal sealed partial class AuthStartupReport(
    ApiKeyValidator validator,
    IOptions<RateLimitOptions> limits,
    IServiceProvider services,
    ILogger<AuthStartupReport> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (validator.IsOpen)
        {
            LogOpenMode(logger);
        }
        else
        {
            LogKeys(logger, validator.KeyCount, string.Join(", ", validator.KeyIds.Select(id => id[..8] + "…")));
        }

        if (limits.Value.IsEnabled)
        {
            var store = services.GetService<IRateLimitStore>() is RedisRateLimitStore ? "Redis (shared by every gateway)" : "this process's memory";
            LogLimits(logger, limits.Value.RequestsPerMinute, limits.Value.TokensPerMinute, store);
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Warning, Message = "No API key is configured (Gateway:Auth:KeyHashes, Gateway:Auth:Keys): the gateway is OPEN, anyone who reaches it may call /v1/*.")]
    private static partial void LogOpenMode(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "/v1/* needs an API key: {Count} accepted (hashes {Hashes}).")]
    private static partial void LogKeys(ILogger logger, int count, string hashes);

    [LoggerMessage(Level = LogLevel.Information, Message = "Per-key limits: {RequestsPerMinute} requests and {TokensPerMinute} tokens per minute (0 = unlimited), counted in {Store}.")]
    private static partial void LogLimits(ILogger logger, int requestsPerMinute, int tokensPerMinute, string store);
}
