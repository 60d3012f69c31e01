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
/// has no cache to win anywhere, so it goes to the least-loaded server as under <see cref="LlmLoadBalancingPolicies.LoadAware"/>,
/// ties broken by rendezvous hashing of the key: idle servers get the same choice from every gateway instance, and a
/// workload without shared prefixes is balanced exactly as by load. A request without a key goes to the least-loaded.
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
            return availableDestinations[LeastLoaded.IndexOf(scores, random)];
        }

        // One table serves every cluster: the cluster's id is part of the key.
        var tableKey = key.Value ^ AffinityHash.Hash('c', cluster?.ClusterId);
        var held = _table.TryGet(tableKey, out var holderId) ? IndexOf(availableDestinations, holderId) : -1;
        int chosen;
        if (held < 0)
        {
            chosen = LeastLoadedByRendezvous(key.Value, scores, availableDestinations);
            Record(cluster, New);
        }
        else
        {
            var least = LeastLoaded.IndexOf(scores, random);
            if (scores[held] - scores[least] > options.AffinityMargin)
            {
                chosen = least;
                Record(cluster, Fallback);
            }
            else
            {
                Record(cluster, Hit);
                return availableDestinations[held];
            }
        }

        _table.Set(tableKey, availableDestinations[chosen].DestinationId);
        return availableDestinations[chosen];
    }

    /// <summary>The least-loaded destination; among equally loaded ones, the highest rendezvous weight for <paramref name="key"/>.</summary>
    internal static int LeastLoadedByRendezvous(ulong key, ReadOnlySpan<double> scores, IReadOnlyList<DestinationState> destinations)
    {
        var best = 0;
        var bestWeight = AffinityHash.Weight(key, destinations[0].DestinationId);
        for (var i = 1; i < scores.Length; i++)
        {
            if (scores[i] < scores[best] - LeastLoaded.Tolerance)
            {
                best = i;
                bestWeight = AffinityHash.Weight(key, destinations[i].DestinationId);
            }
            else if (Math.Abs(scores[i] - scores[best]) <= LeastLoaded.Tolerance)
            {
                var weight = AffinityHash.Weight(key, destinations[i].DestinationId);
                if (weight > bestWeight
                    || (weight == bestWeight && string.CompareOrdinal(destinations[i].DestinationId, destinations[best].DestinationId) < 0))
                {
                    best = i;
                    bestWeight = weight;
                }
            }
        }

        return best;
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
