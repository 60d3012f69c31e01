using System.Diagnostics.Metrics;
using LlmAspire.Gateway.Telemetry;

namespace LlmAspire.Gateway.RateLimiting;

/// <summary>Counters of the meter <c>LlmAspire.Gateway</c> for the per-key limits.</summary>
public sealed class RateLimitMetrics
{
    private readonly Counter<long> _rateLimited;
    private readonly Counter<long> _rateLimitUnavailable;

    /// <summary>Creates the counters.</summary>
    public RateLimitMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(GatewayMetrics.MeterName);
        _rateLimited = meter.CreateCounter<long>("llmaspire.gateway.ratelimit.rejections", "{request}", "Requests refused with 429, by the limit that was reached.");
        _rateLimitUnavailable = meter.CreateCounter<long>("llmaspire.gateway.ratelimit.unavailable", "{request}", "Requests let through unchecked because the limit store (Redis) did not answer.");
    }

    internal void RateLimited(string limit) => _rateLimited.Add(1, new KeyValuePair<string, object?>("limit", limit));

    internal void RateLimitUnavailable() => _rateLimitUnavailable.Add(1);
}
