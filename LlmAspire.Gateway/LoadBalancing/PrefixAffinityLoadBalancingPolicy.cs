using LlmAspire.Gateway.Telemetry;
using Yarp.ReverseProxy.LoadBalancing;
using Yarp.ReverseProxy.Model;
using LlmAspire.Gateway.LoadPolling;
using LlmAspire.Gateway.Routing;

namespace LlmAspire.Gateway.LoadBalancing;

/// <summary>
/// <see cref="LlmLoadBalancingPolicies.PrefixAffinity"/>, SGLang's and llm-d's cache-aware pattern: prefix-cache hit
/// estimate first, load second. A request's affinity key (its <see cref="RoutingOptions.SessionHeader"/>, else its
/// prompt's first <see cref="RoutingOptions.PrefixLength"/> characters) is looked up in a <see cref="PrefixRouteTable"/>
/// of where this gateway sent each key last. A key seen before goes back to that server, whose cache should hold the
/// prefix, unless its load exceeds the least-loaded one's by more than <see cref="RoutingOptions.AffinityMargin"/>;
/// then the least-loaded server takes it and becomes the key's server. A key not seen before (or whose server left)
/// has no cache to win anywhere, so it is placed exactly as <see cref="LlmLoadBalancingPolicies.LoadAware"/> places a
/// request (least loaded; within <see cref="RoutingOptions.LoadTieBand"/> of it, the server sent to longest ago), ties
/// among servers never picked broken by rendezvous hashing of the key: a workload without shared prefixes is balanced
/// as by load. A request without a key goes where LoadAware would send it.
/// </summary>
internal sealed class PrefixAffinityLoadBalancingPolicy(
    DestinationLoadScorer scorer, Random random, RoutingOptions options, GatewayMetrics? metrics = null) : ILoadBalancingPolicy
{
    /// <summary>The key's server was taken.</summary>
    public const string Hit = "hit";

    /// <summary>The key's server was too busy; the least-loaded was taken.</summary>
    public const string Fallback = "fallback";

    /// <summary>The key had no server yet; the least-loaded was taken.</summary>
    public const string New = "new";

    /// <summary>The request had no affinity key; the least-loaded was taken.</summary>
    public const string NoKey = "none";

    private readonly PrefixRouteTable _table = new(options.PrefixTableSize);
    private readonly DestinationPickClock _clock = new();

    public string Name => LlmLoadBalancingPolicies.PrefixAffinity;

    /// <summary>Where this policy last sent each key.</summary>
    internal PrefixRouteTable Table => _table;

    public DestinationState? PickDestination(HttpContext context, ClusterState cluster, IReadOnlyList<DestinationState> availableDestinations)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(availableDestinations);
        if (availableDestinations.Count <= 1)
        {
            return availableDestinations.Count == 0 ? null : availableDestinations[0];
        }

        var scores = LeastLoaded.Scores(availableDestinations, scorer);
        var key = AffinityHash.KeyOf(context, options.SessionHeader, options.PrefixLength);
        if (key is null)
        {
            Record(cluster, NoKey);
            return Pick(availableDestinations, _clock.IndexOf(scores, availableDestinations, options.LoadTieBand, random));
        }

        // One table serves every cluster: the cluster's id is part of the key.
        var tableKey = key.Value ^ AffinityHash.Hash('c', cluster?.ClusterId);
        var held = _table.TryGet(tableKey, out var holderId) ? IndexOf(availableDestinations, holderId) : -1;
        if (held >= 0 && scores[held] - LeastLoaded.Min(scores) <= options.AffinityMargin)
        {
            Record(cluster, Hit);
            return Pick(availableDestinations, held);
        }

        // A key no server holds (or whose server is too busy) gains nothing from any one server: placed as LoadAware
        // places a request, the rendezvous hash of the key breaking ties among servers never picked.
        var chosen = _clock.IndexOf(scores, availableDestinations, options.LoadTieBand, random, key.Value);
        Record(cluster, held < 0 ? New : Fallback);
        _table.Set(tableKey, availableDestinations[chosen].DestinationId);
        return Pick(availableDestinations, chosen);
    }

    private DestinationState Pick(IReadOnlyList<DestinationState> destinations, int index)
    {
        _clock.Picked(destinations[index]);
        return destinations[index];
    }

    private static int IndexOf(IReadOnlyList<DestinationState> destinations, string destinationId)
    {
        for (var i = 0; i < destinations.Count; i++)
        {
            if (string.Equals(destinations[i].DestinationId, destinationId, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }

    private void Record(ClusterState? cluster, string outcome) =>
        metrics?.RecordAffinity(cluster?.ClusterId ?? GatewayMetrics.None, outcome);
}
