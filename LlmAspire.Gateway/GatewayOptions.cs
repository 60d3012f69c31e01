using LlmAspire.Gateway.Health;
using LlmAspire.Gateway.Routing;
using LlmAspire.Gateway.LoadBalancing;

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

    /// <summary>
    /// The load-balancing policy of <see cref="ModelServers"/>, and of every model in <see cref="Models"/> without its
    /// own: a <see cref="LlmLoadBalancingPolicies"/> name.
    /// </summary>
    public string LoadBalancingPolicy { get; set; } = LlmLoadBalancingPolicies.Default;

    /// <summary>
    /// The model of <see cref="ModelServers"/> (empty: whatever their <c>/v1/models</c> list); without
    /// <see cref="ModelServers"/>, the model of requests that name none.
    /// </summary>
    public string? DefaultModel { get; set; }

    /// <summary>More models, each with its own servers and policy: <c>Gateway:Models:{model}:Servers</c>, <c>:Policy</c>.</summary>
    public Dictionary<string, ModelClusterOptions> Models { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Load reading and prefix affinity, <c>Gateway:Routing</c>.</summary>
    public RoutingOptions Routing { get; set; } = new();

    /// <summary>Passive health and retries, <c>Gateway:Health</c>.</summary>
    public HealthOptions Health { get; set; } = new();

    /// <summary>Waits on the model servers: first byte, stream idle, connect, keep-alive, health probes; <c>Gateway:Timeouts</c>.</summary>
    public TimeoutOptions Timeouts { get; set; } = new();

    /// <summary>
    /// YARP's own limit on how long a forwarded request may go without any data either way before it is cancelled: the
    /// backstop behind <see cref="TimeoutOptions.FirstByte"/> and <see cref="TimeoutOptions.StreamIdle"/>, which end such a
    /// request sooner and more gracefully (a retry, an error event), so it must be at least as long as either.
    /// </summary>
    public TimeSpan ActivityTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How often each model server's <c>/health</c> is probed.</summary>
    public TimeSpan HealthCheckInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Whether the options describe usable clusters (<see cref="ModelServerProxyConfig.Validate"/> names what is wrong).</summary>
    internal static bool IsValid(GatewayOptions options) =>
        options.ActivityTimeout > TimeSpan.Zero
        && options.HealthCheckInterval > TimeSpan.Zero
        && ModelServerProxyConfig.Validate(options).Count == 0;
}
