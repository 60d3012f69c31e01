namespace LlmAspire.Gateway.Routing;

/// <summary>One model and the servers that serve it, section <c>Gateway:Models:{model}</c>.</summary>
public sealed class ModelClusterOptions
{
    /// <summary>The model's servers: service-discovery names or absolute URLs, as in <c>Gateway:ModelServers</c>.</summary>
    public string[] Servers { get; set; } = [];

    /// <summary>A <see cref="LlmLoadBalancingPolicies"/> name; null takes <c>Gateway:LoadBalancingPolicy</c>.</summary>
    public string? Policy { get; set; }
}
