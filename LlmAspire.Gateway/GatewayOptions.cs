using LlmAspire.Gateway.Routing;

namespace LlmAspire.Gateway;

/// <summary>Configuration of the gateway, section <c>Gateway</c>.</summary>
public sealed class GatewayOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Gateway";

    /// <summary>
    /// The model servers behind <c>/v1/*</c>: service-discovery names such as <c>modelserver-0</c>
    /// (forwarded to <c>http://modelserver-0</c>) or absolute URLs such as <c>http://localhost:5100</c>.
    /// The AppHost sets one entry per model server.
    /// </summary>
    public string[] ModelServers { get; set; } = [];

    /// <summary>A <see cref="Yarp.ReverseProxy.LoadBalancing.LoadBalancingPolicies"/> name.</summary>
    public string LoadBalancingPolicy { get; set; } = Yarp.ReverseProxy.LoadBalancing.LoadBalancingPolicies.PowerOfTwoChoices;

    /// <summary>
    /// How long a forwarded request may go without any data either way before it is cancelled.
    /// Long prefills and slow streams need far more than YARP's 100 s default.
    /// </summary>
    public TimeSpan ActivityTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How often each model server's <c>/health</c> is probed.</summary>
    public TimeSpan HealthCheckInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Whether the options describe a usable cluster; the message names what is wrong.</summary>
    internal static bool IsValid(GatewayOptions options) =>
        options.ModelServers.Length > 0
        && options.ModelServers.All(server => !string.IsNullOrWhiteSpace(server))
        && options.ModelServers.Distinct(StringComparer.OrdinalIgnoreCase).Count() == options.ModelServers.Length
        && options.ActivityTimeout > TimeSpan.Zero
        && options.HealthCheckInterval > TimeSpan.Zero
        && ModelServerProxyConfig.IsKnownLoadBalancingPolicy(options.LoadBalancingPolicy);

    internal const string ValidationMessage =
        "Gateway:ModelServers must list at least one distinct, non-empty model server (the AppHost sets "
        + "Gateway__ModelServers__0..N-1); Gateway:ActivityTimeout and Gateway:HealthCheckInterval must be positive; "
        + "Gateway:LoadBalancingPolicy must be a YARP policy name.";
}
