using System.Diagnostics.Metrics;
using LlmAspire.Gateway.Telemetry;

namespace LlmAspire.Gateway.Auth;

/// <summary>Counters of the meter <c>LlmAspire.Gateway</c> for API keys.</summary>
public sealed class AuthMetrics
{
    private readonly Counter<long> _authFailures;

    /// <summary>Creates the counters.</summary>
    public AuthMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(GatewayMetrics.MeterName);
        _authFailures = meter.CreateCounter<long>("llmaspire.gateway.auth.failures", "{request}", "Requests refused for a missing or wrong API key, by reason.");
    }

    internal void AuthFailure(string reason) => _authFailures.Add(1, new KeyValuePair<string, object?>("reason", reason));
}
