using System.Diagnostics.Metrics;

namespace LlmAspire.Gateway.Auth;

/// <summary>Counters of the meter <c>LlmAspire.Gateway</c> for keys and limits.</summary>
public sealed class AuthMetrics
{
    /// <summary>The gateway's meter.</summary>
    public const string MeterName = "LlmAspire.Gateway";

    private readonly Counter<long> _authFailures;
    private readonly Counter<long> _rateLimited;
    private readonly Counter<long> _rateLimitUnavailable;

    /// <summary>Creates the counters.</summary>
    public AuthMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(MeterName);
        _authFailures = meter.CreateCounter<long>("llmaspire.gateway.auth.failures", "{request}", "Requests refused for a missing or wrong API key, by reason.");
        _rateLimited = meter.CreateCounter<long>("llmaspire.gateway.ratelimit.rejections", "{request}", "Requests refused with 429, by the limit that was reached.");
        _rateLimitUnavailable = meter.CreateCounter<long>("llmaspire.gateway.ratelimit.unavailable", "{request}", "Requests let through unchecked because the limit store (Redis) did not answer.");
    }

    internal void AuthFailure(string reason) => _authFailures.Add(1, new KeyValuePair<string, object?>("reason", reason));

    internal void RateLimited(string limit) => _rateLimited.Add(1, new KeyValuePair<string, object?>("limit", limit));

    internal void RateLimitUnavailable() => _rateLimitUnavailable.Add(1);
}
