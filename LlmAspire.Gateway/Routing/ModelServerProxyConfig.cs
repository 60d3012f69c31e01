using LlmAspire.OpenAIApi.Models;
using LlmAspire.Gateway.Health;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Health;
using LlmAspire.Gateway.LoadBalancing;

namespace LlmAspire.Gateway.Routing;

/// <summary>
/// The YARP routes and clusters that put the model servers behind <c>/v1/*</c>: one cluster per model, each reached by
/// its own route. The <c>/v1/{**catch-all}</c> route targets the default cluster; the cluster a request really goes to
/// is chosen from the <c>model</c> of its body by <see cref="ModelClusterSelectionMiddleware"/> in the proxy pipeline,
/// which reassigns the request to that cluster's route. Those routes also match on their own when a request carries
/// <see cref="ClusterHeader"/> (for calls without a body to read the model from).
/// </summary>
public static class ModelServerProxyConfig
{
    /// <summary>The route that matches the OpenAI-compatible API and targets the default cluster.</summary>
    public const string RouteId = "openai-v1";

    /// <summary>The cluster of <c>Gateway:ModelServers</c>.</summary>
    public const string ClusterId = "modelservers";

    /// <summary>The path every route matches.</summary>
    public const string RoutePath = "/v1/{**catch-all}";

    /// <summary>The model server path that active health checks probe (readiness: 200 only when Healthy).</summary>
    public const string HealthPath = "/health";

    /// <summary>A request header that names the cluster of a request whose body names no model; never forwarded.</summary>
    public const string ClusterHeader = "X-LlmAspire-Cluster";

    /// <summary>The cluster of <c>Gateway:Models:{model}</c>.</summary>
    public static string ModelClusterId(string model) => $"model-{model}";

    /// <summary>The route that targets only <paramref name="clusterId"/>.</summary>
    public static string RouteIdFor(string clusterId) => $"{RouteId}/{clusterId}";

    /// <summary>
    /// The routes: <see cref="RouteId"/> to the default cluster (order 1), and one per cluster matched by
    /// <see cref="ClusterHeader"/> (order 0).
    /// </summary>
    public static IReadOnlyList<RouteConfig> CreateRoutes(GatewayOptions options)
    {
        var table = ModelRoutingTable.From(options);
        if (table.Clusters.Count == 0)
        {
            return [];
        }

        var routes = new List<RouteConfig>
        {
            new()
            {
                RouteId = RouteId,
                ClusterId = table.DefaultClusterId,
                Order = 1,
                Match = new RouteMatch { Path = RoutePath },
            },
        };
        routes.AddRange(table.Clusters.Select(cluster => new RouteConfig
        {
            RouteId = cluster.RouteId,
            ClusterId = cluster.ClusterId,
            Order = 0,
            Match = new RouteMatch
            {
                Path = RoutePath,
                Headers = [new RouteHeader { Name = ClusterHeader, Values = [cluster.ClusterId], Mode = HeaderMatchMode.ExactHeader }],
            },
        }));
        return routes;
    }

    /// <summary>The clusters: one destination per server, health-checked actively and passively, never buffering responses.</summary>
    public static IReadOnlyList<ClusterConfig> CreateClusters(GatewayOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return ModelRoutingTable.From(options).Clusters.Select(cluster => CreateCluster(cluster, options)).ToList();
    }

    private static ClusterConfig CreateCluster(ModelClusterDefinition cluster, GatewayOptions options)
    {
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [TransportFailureRateHealthPolicyOptions.FailureRateLimitMetadataName] =
                options.Health.FailureRateLimit.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        if (cluster.Model is not null)
        {
            metadata[DestinationMetadata.ModelKey] = cluster.Model;
        }

        return new ClusterConfig
        {
            ClusterId = cluster.ClusterId,
            LoadBalancingPolicy = cluster.Policy,
            Metadata = metadata,
            Destinations = cluster.Servers.ToDictionary(
                server => server,
                server => new DestinationConfig
                {
                    Address = ToAddress(server),
                    Metadata = new Dictionary<string, string>(StringComparer.Ordinal) { [DestinationMetadata.ServerKey] = server },
                },
                StringComparer.OrdinalIgnoreCase),
            HealthCheck = new HealthCheckConfig
            {
                Active = new ActiveHealthCheckConfig
                {
                    Enabled = true,
                    Interval = options.HealthCheckInterval,
                    Timeout = options.Timeouts.HealthProbe,
                    Policy = HealthCheckConstants.ActivePolicy.ConsecutiveFailures,
                    Path = HealthPath,
                },
                Passive = new PassiveHealthCheckConfig
                {
                    Enabled = true,
                    Policy = HealthCheckConstants.PassivePolicy.TransportFailureRate,
                    ReactivationPeriod = options.Health.ReactivationPeriod,
                },
            },
            HttpRequest = new ForwarderRequestConfig
            {
                ActivityTimeout = options.ActivityTimeout,
                // Server-sent events must reach the client token by token: never buffer responses.
                AllowResponseBuffering = false,
            },
        };
    }

    /// <summary>A service-discovery name becomes <c>http://name</c>; an absolute URL is kept.</summary>
    public static string ToAddress(string server) =>
        server.Contains("://", StringComparison.Ordinal) ? server : $"http://{server}";

    /// <summary>What is wrong with the routing configuration, one message per problem; empty when it is usable.</summary>
    public static IReadOnlyList<string> Validate(GatewayOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (options.ModelServers.Length == 0 && options.Models.Count == 0)
        {
            failures.Add("Gateway:ModelServers (or Gateway:Models:{model}:Servers) must list at least one model server; the AppHost sets Gateway__ModelServers__0..N-1.");
        }

        if (options.ModelServers.Length > 0)
        {
            ValidateServers("Gateway:ModelServers", options.ModelServers, failures);
        }

        if (!LlmLoadBalancingPolicies.IsKnown(options.LoadBalancingPolicy))
        {
            failures.Add($"Gateway:LoadBalancingPolicy '{options.LoadBalancingPolicy}' is not one of {string.Join(", ", LlmLoadBalancingPolicies.All)}.");
        }

        foreach (var (model, cluster) in options.Models)
        {
            if (string.IsNullOrWhiteSpace(model))
            {
                failures.Add("Gateway:Models has an empty model name.");
                continue;
            }

            if (cluster.Servers.Length == 0)
            {
                failures.Add($"Gateway:Models:{model}:Servers must list at least one model server.");
            }

            ValidateServers($"Gateway:Models:{model}:Servers", cluster.Servers, failures);
            if (cluster.Policy is not null && !LlmLoadBalancingPolicies.IsKnown(cluster.Policy))
            {
                failures.Add($"Gateway:Models:{model}:Policy '{cluster.Policy}' is not one of {string.Join(", ", LlmLoadBalancingPolicies.All)}.");
            }
        }

        if (!string.IsNullOrWhiteSpace(options.DefaultModel))
        {
            var configured = options.Models.ContainsKey(options.DefaultModel);
            if (options.ModelServers.Length > 0 && configured)
            {
                failures.Add($"Gateway:DefaultModel '{options.DefaultModel}' names the model of Gateway:ModelServers and must not also be a key of Gateway:Models.");
            }
            else if (options.ModelServers.Length == 0 && options.Models.Count > 0 && !configured)
            {
                failures.Add($"Gateway:DefaultModel '{options.DefaultModel}' must name one of Gateway:Models.");
            }
        }

        ValidateRouting(options.Routing, failures);
        ValidateHealth(options.Health, failures);
        ValidateTimeouts(options, failures);
        return failures;
    }

    private static void ValidateServers(string key, string[] servers, List<string> failures)
    {
        if (servers.Any(string.IsNullOrWhiteSpace))
        {
            failures.Add($"{key} must not hold empty entries.");
        }
        else if (servers.Distinct(StringComparer.OrdinalIgnoreCase).Count() != servers.Length)
        {
            failures.Add($"{key} must not list a server twice.");
        }
    }

    private static void ValidateRouting(RoutingOptions routing, List<string> failures)
    {
        if (routing.MetricsInterval < TimeSpan.Zero || routing.MetricsTimeout <= TimeSpan.Zero || routing.MetricsMaxAge <= TimeSpan.Zero)
        {
            failures.Add("Gateway:Routing:MetricsTimeout and MetricsMaxAge must be positive, MetricsInterval not negative (zero stops reading /metrics).");
        }

        if (routing.PrefixLength <= 0 || routing.PrefixTableSize <= 0 || routing.AffinityMargin < 0 || routing.KvCacheWeight < 0 || routing.LoadTieBand < 0)
        {
            failures.Add("Gateway:Routing:PrefixLength and PrefixTableSize must be positive; AffinityMargin, KvCacheWeight and LoadTieBand must not be negative.");
        }

        if (routing.ModelListCacheDuration < TimeSpan.Zero || routing.ModelListTimeout <= TimeSpan.Zero)
        {
            failures.Add("Gateway:Routing:ModelListTimeout must be positive and ModelListCacheDuration not negative.");
        }

        if (routing.DnsRefreshInterval < TimeSpan.Zero)
        {
            failures.Add("Gateway:Routing:DnsRefreshInterval must not be negative (zero turns the per-address lookups off).");
        }
    }

    private static void ValidateTimeouts(GatewayOptions options, List<string> failures)
    {
        var timeouts = options.Timeouts;
        if (timeouts.FirstByte <= TimeSpan.Zero || timeouts.StreamIdle <= TimeSpan.Zero || timeouts.Connect <= TimeSpan.Zero
            || timeouts.KeepAlive < TimeSpan.FromSeconds(1) || timeouts.HealthProbe <= TimeSpan.Zero)
        {
            failures.Add("Gateway:Timeouts:FirstByte, StreamIdle, Connect and HealthProbe must be positive, KeepAlive at least 1 s.");
        }

        if (options.ActivityTimeout < timeouts.FirstByte || options.ActivityTimeout < timeouts.StreamIdle)
        {
            failures.Add($"Gateway:ActivityTimeout ({options.ActivityTimeout}) must be at least Gateway:Timeouts:FirstByte ({timeouts.FirstByte}) and StreamIdle ({timeouts.StreamIdle}): it is their backstop.");
        }
    }

    private static void ValidateHealth(HealthOptions health, List<string> failures)
    {
        if (health.FailureRateLimit is <= 0 or > 1 || health.FailureWindow <= TimeSpan.Zero
            || health.ReactivationPeriod <= TimeSpan.Zero || health.MinimalRequests < 1)
        {
            failures.Add("Gateway:Health:FailureRateLimit must be in (0, 1], FailureWindow and ReactivationPeriod positive, MinimalRequests at least 1.");
        }
    }
}
