using Yarp.ReverseProxy.LoadBalancing;
using Yarp.ReverseProxy.Model;
using LlmAspire.Gateway.LoadPolling;

namespace LlmAspire.Gateway.LoadBalancing;

/// <summary>
/// <see cref="LlmLoadBalancingPolicies.LoadAware"/>: the destination with the smallest
/// <see cref="DestinationLoadScorer"/> score (the servers' own queue, running requests and KV usage, kept current
/// between readings by the gateway's in-flight counts); ties at random.
/// </summary>
internal sealed class LoadAwareLoadBalancingPolicy(DestinationLoadScorer scorer, Random random) : ILoadBalancingPolicy
{
    public string Name => LlmLoadBalancingPolicies.LoadAware;

    public DestinationState? PickDestination(HttpContext context, ClusterState cluster, IReadOnlyList<DestinationState> availableDestinations)
    {
        ArgumentNullException.ThrowIfNull(availableDestinations);
        return availableDestinations.Count switch
        {
            0 => null,
            1 => availableDestinations[0],
            _ => availableDestinations[LeastLoaded.IndexOf(LeastLoaded.Scores(availableDestinations, scorer), random)],
        };
    }
}
