using Yarp.ReverseProxy.Model;
using LlmAspire.Gateway.Routing;

namespace LlmAspire.Gateway.LoadPolling;

/// <summary>
/// A destination's load in requests: waiting + running + <see cref="RoutingOptions.KvCacheWeight"/> × KV usage from
/// its last <c>/metrics</c> reading, corrected by the requests this gateway started or finished on it since
/// (<see cref="DestinationState.ConcurrentRequestCount"/> now minus at the reading). Without a usable reading (none
/// yet, the server exposes no such metrics, or older than <see cref="RoutingOptions.MetricsMaxAge"/>) the load is the
/// gateway's own in-flight count.
/// </summary>
internal sealed class DestinationLoadScorer(DestinationLoadStore store, TimeProvider timeProvider, RoutingOptions options)
{
    public double Score(DestinationState destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        var inFlight = destination.ConcurrentRequestCount;
        if (store.TryGet(destination, out var sample)
            && sample.Load.IsKnown
            && timeProvider.GetElapsedTime(sample.ReadAt) <= options.MetricsMaxAge)
        {
            var load = sample.Load;
            var score = (load.Running ?? 0)
                + (load.Waiting ?? 0)
                + (options.KvCacheWeight * Math.Clamp(load.KvCacheUsage ?? 0, 0, 1))
                + (inFlight - sample.InFlightAtRead);
            return Math.Max(0, score);
        }

        return inFlight;
    }
}
