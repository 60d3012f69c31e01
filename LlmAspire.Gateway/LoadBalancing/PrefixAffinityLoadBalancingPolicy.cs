using LlmAspire.Gateway.Telemetry;
using Yarp.ReverseProxy.LoadBalancing;
using Yarp.ReverseProxy.Model;
using LlmAspire.Gateway.LoadPolling;
using LlmAspire.Gateway.Routing;

namespace LlmAspire.Gateway.LoadBalancing;

/// <summary>
/// <see cref="LlmLoadBalancingPolicies.PrefixAffinity"/>, SGLang's cache-aware pattern: a request's affinity key
/// (its <see cref="RoutingOptions.SessionHeader"/>, else its prompt's first <see cref="RoutingOptions.PrefixLength"/>
/// characters) picks a destination by rendezvous hashing over the available ones, so one prefix keeps hitting the
/// server that has it cached and a server leaving moves only its own keys. When that server's load exceeds the
/// least-loaded one's by more than <see cref="RoutingOptions.AffinityMargin"/>, or the request has no key, the
/// least-loaded destination is taken instead.
/// </summary>
internal sealed class PrefixAffinityLoadBalancingPolicy(
    DestinationLoadScorer scorer, Random random, RoutingOptions options, GatewayMetrics? metrics = null) : ILoadBalancingPolicy
{
    /// <summary>The affine destination was taken.</summary>
    public const string Hit = "hit";

    /// <summary>The affine destination was too busy; the least-loaded was taken.</summary>
    public const string Fallback = "fallback";

    /// <summary>The request had no affinity key; the least-loaded was taken.</summary>
    public const string NoKey = "none";

    public string Name => LlmLoadBalancingPolicies.PrefixAffinity;

    public DestinationState? PickDestination(HttpContext context, ClusterState cluster, IReadOnlyList<DestinationState> availableDestinations)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(availableDestinations);
        if (availableDestinations.Count <= 1)
        {
            return availableDestinations.Count == 0 ? null : availableDestinations[0];
        }

        var scores = LeastLoaded.Scores(availableDestinations, scorer);
        var least = LeastLoaded.IndexOf(scores, random);
        var key = AffinityHash.KeyOf(context, options.SessionHeader, options.PrefixLength);
        if (key is null)
        {
            Record(cluster, NoKey);
            return availableDestinations[least];
        }

        var affine = AffinityHash.Pick(key.Value, availableDestinations);
        if (scores[affine] - scores[least] > options.AffinityMargin)
        {
            Record(cluster, Fallback);
            return availableDestinations[least];
        }

        Record(cluster, Hit);
        return availableDestinations[affine];
    }

    private void Record(ClusterState? cluster, string outcome) =>
        metrics?.RecordAffinity(cluster?.ClusterId ?? GatewayMetrics.None, outcome);
}
