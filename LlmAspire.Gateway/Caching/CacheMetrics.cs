using System.Diagnostics.Metrics;

namespace LlmAspire.Gateway.Caching;

/// <summary>
/// <c>llmaspire.gateway.cache.requests{result=hit|miss|bypass, stream}</c> on the meter <c>LlmAspire.Gateway</c>:
/// every completion request the cache looked at. A miss is a request the gateway forwarded to a model server;
/// identical requests that waited for it count as hits.
/// </summary>
public sealed class CacheMetrics
{
    /// <summary>The gateway's meter.</summary>
    public const string MeterName = "LlmAspire.Gateway";

    /// <summary>The counter's name.</summary>
    public const string RequestsCounterName = "llmaspire.gateway.cache.requests";

    private readonly Counter<long> _requests;

    /// <summary>Creates the counter.</summary>
    public CacheMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        _requests = meterFactory.Create(MeterName).CreateCounter<long>(RequestsCounterName, "{request}", "Completion requests by cache result.");
    }

    internal void Record(string result, bool stream) =>
        _requests.Add(1, new KeyValuePair<string, object?>("result", result), new KeyValuePair<string, object?>("stream", stream));
}
