using Yarp.ReverseProxy.LoadBalancing;
using Yarp.ReverseProxy.Model;
using LlmAspire.Gateway.LoadPolling;
using LlmAspire.Gateway.Routing;

namespace LlmAspire.Gateway.LoadBalancing;

/// <summary>
/// <see cref="LlmLoadBalancingPolicies.LoadAware"/>: the destination with the smallest
/// <see cref="DestinationLoadScorer"/> score (the servers' own queue, running requests and KV usage, kept current
/// between readings by the gateway's in-flight counts); among servers within <see cref="RoutingOptions.LoadTieBand"/>
/// of it, the one sent a request longest ago (<see cref="DestinationPickClock"/>); never-picked ties at random.
/// </summary>
internal sealed class LoadAwareLoadBalancingPolicy(DestinationLoadScorer scorer, Random random, RoutingOptions options) : ILoadBalancingPolicy
{
    private readonly DestinationPickClock _clock = new();

    public string Name => LlmLoadBalancingPolicies.LoadAware;

    public DestinationState? PickDestination(HttpContext context, ClusterState cluster, IReadOnlyList<DestinationState> availableDestinations)
    {
        ArgumentNullException.ThrowIfNull(availableDestinations);
        if (availableDestinations.Count <= 1)
        {
            return availableDestinations.Count == 0 ? null : availableDestinations[0];
        }

        var scores = LeastLoaded.Scores(availableDestinations, scorer);
        var chosen = availableDestinations[_clock.IndexOf(scores, availableDestinations, options.LoadTieBand, random)];
        _clock.Picked(chosen);
        return chosen;
    }
}
