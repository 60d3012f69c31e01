namespace LlmAspire.Gateway.Routing;

/// <summary>How the gateway reads the servers' load and keeps prompts on the same server, section <c>Gateway:Routing</c>.</summary>
public sealed class RoutingOptions
{
    /// <summary>How often each server's <c>/metrics</c> is read for <see cref="LlmLoadBalancingPolicies.LoadAware"/> and <see cref="LlmLoadBalancingPolicies.PrefixAffinity"/>; zero turns reading off.</summary>
    public TimeSpan MetricsInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>How long one read of <c>/metrics</c> may take.</summary>
    public TimeSpan MetricsTimeout { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// How long a reading stays usable: a server whose reads fail keeps its last reading this long, then its load is
    /// unknown and the gateway's own in-flight count stands in for it.
    /// </summary>
    public TimeSpan MetricsMaxAge { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>What a full KV cache (<c>vllm:kv_cache_usage_perc</c> = 1) adds to a server's load, in requests.</summary>
    public double KvCacheWeight { get; set; } = 4;

    /// <summary>
    /// Servers whose load is within this many requests of the least-loaded one count as equally loaded; among them
    /// <see cref="LlmLoadBalancingPolicies.LoadAware"/> and <see cref="LlmLoadBalancingPolicies.PrefixAffinity"/> pick
    /// the one they sent a request to longest ago (its work is the furthest along). Zero: only exact ties.
    /// </summary>
    public double LoadTieBand { get; set; } = 0.5;

    /// <summary>How many leading characters of the prompt make its affinity key.</summary>
    public int PrefixLength { get; set; } = 256;

    /// <summary>The request header whose value, when present, is the affinity key instead of the prompt.</summary>
    public string SessionHeader { get; set; } = "x-session-id";

    /// <summary>
    /// How much busier (in requests) than the least-loaded server the affine server may be before the request goes
    /// to the least-loaded one instead.
    /// </summary>
    public double AffinityMargin { get; set; } = 4;

    /// <summary>
    /// How many affinity keys <see cref="LlmLoadBalancingPolicies.PrefixAffinity"/> remembers the server of (least
    /// recently used forgotten first); a forgotten key is placed again as a new one, by load.
    /// </summary>
    public int PrefixTableSize { get; set; } = 100_000;

    /// <summary>How long the gateway reuses the servers' <c>/v1/models</c> answers.</summary>
    public TimeSpan ModelListCacheDuration { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long one server's <c>/v1/models</c> may take to answer.</summary>
    public TimeSpan ModelListTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How often a model server whose address names a DNS host (not <c>localhost</c>, not an IP literal) is looked up
    /// again; each address the name resolves to is its own destination (<see cref="PodDestinationResolver"/>), so the
    /// policies pick a pod, not a Service. Keep it shorter than the model servers' <c>preStop</c> pause (5 s in the
    /// generated Kubernetes YAML), so a terminating pod is dropped before it stops taking requests. Zero turns the
    /// lookups off: every server is one destination, as service discovery resolved it.
    /// </summary>
    public TimeSpan DnsRefreshInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>The response header naming the server that answered (a debugging aid); empty sends none.</summary>
    public string ServerHeader { get; set; } = "x-llmaspire-server";
}
