using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.LoadBalancing;

namespace LlmAspire.Gateway.Routing;

/// <summary>The YARP routes and cluster that put every model server behind <c>/v1/*</c>.</summary>
public static class ModelServerProxyConfig
{
    /// <summary>The route that matches the OpenAI-compatible API.</summary>
    public const string RouteId = "openai-v1";

    /// <summary>The one cluster holding every model server.</summary>
    public const string ClusterId = "modelservers";

    /// <summary>The path the route matches.</summary>
    public const string RoutePath = "/v1/{**catch-all}";

    /// <summary>The model server path that active health checks probe (readiness: 200 only when Healthy).</summary>
    public const string HealthPath = "/health";

    private static readonly string[] s_knownPolicies =
    [
        LoadBalancingPolicies.PowerOfTwoChoices,
        LoadBalancingPolicies.RoundRobin,
        LoadBalancingPolicies.LeastRequests,
        LoadBalancingPolicies.Random,
        LoadBalancingPolicies.FirstAlphabetical,
    ];

    /// <summary>The routes: <c>/v1/{**catch-all}</c> to <see cref="ClusterId"/>.</summary>
    public static IReadOnlyList<RouteConfig> CreateRoutes() =>
    [
        new RouteConfig
        {
            RouteId = RouteId,
            ClusterId = ClusterId,
            Match = new RouteMatch { Path = RoutePath },
        },
    ];

    /// <summary>The cluster: one destination per model server, health-checked actively and passively.</summary>
    public static IReadOnlyList<ClusterConfig> CreateClusters(GatewayOptions options) =>
    [
        new ClusterConfig
        {
            ClusterId = ClusterId,
            LoadBalancingPolicy = options.LoadBalancingPolicy,
            Destinations = options.ModelServers.ToDictionary(
                server => server,
                server => new DestinationConfig { Address = ToAddress(server) },
                StringComparer.OrdinalIgnoreCase),
            HealthCheck = new HealthCheckConfig
            {
                Active = new ActiveHealthCheckConfig
                {
                    Enabled = true,
                    Interval = options.HealthCheckInterval,
                    Timeout = options.HealthCheckInterval,
                    Policy = HealthCheckConstants.ActivePolicy.ConsecutiveFailures,
                    Path = HealthPath,
                },
                Passive = new PassiveHealthCheckConfig
                {
                    Enabled = true,
                    Policy = HealthCheckConstants.PassivePolicy.TransportFailureRate,
                    ReactivationPeriod = TimeSpan.FromSeconds(30),
                },
            },
            HttpRequest = new ForwarderRequestConfig
            {
                ActivityTimeout = options.ActivityTimeout,
                // Server-sent events must reach the client token by token: never buffer responses.
                AllowResponseBuffering = false,
            },
        },
    ];

    /// <summary>A service-discovery name becomes <c>http://name</c>; an absolute URL is kept.</summary>
    public static string ToAddress(string server) =>
        server.Contains("://", StringComparison.Ordinal) ? server : $"http://{server}";

    internal static bool IsKnownLoadBalancingPolicy(string policy) =>
        s_knownPolicies.Contains(policy, StringComparer.OrdinalIgnoreCase);
}
