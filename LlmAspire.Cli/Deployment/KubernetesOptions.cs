namespace LlmAspire.Cli.Deployment;

/// <summary>What <c>llmaspire deploy kubernetes</c> generates besides what the Aspire manifest says.</summary>
internal sealed record KubernetesOptions
{
    /// <summary>The namespace every object goes into.</summary>
    public string Namespace { get; init; } = "llmaspire";

    /// <summary>Model servers request <see cref="GpusPerServer"/> <c>nvidia.com/gpu</c> and run on GPU nodes.</summary>
    public bool Gpu { get; init; }

    /// <summary>GPUs per model-server pod in GPU mode.</summary>
    public int GpusPerServer { get; init; } = 1;

    /// <summary>Pods per model-server Deployment (the HPA's minimum).</summary>
    public int ReplicasPerServer { get; init; } = 1;

    /// <summary>The HPA's maximum pods per model-server Deployment.</summary>
    public int MaxReplicasPerServer { get; init; } = 4;

    /// <summary>Waiting requests per pod (<c>vllm:num_requests_waiting</c>) above which the HPA adds pods.</summary>
    public int WaitingRequestsTarget { get; init; } = 4;

    /// <summary>The registry prefix of the images, e.g. <c>myregistry.azurecr.io/llmaspire</c>; empty for none.</summary>
    public string ImageRegistry { get; init; } = "";

    /// <summary>The image tag.</summary>
    public string ImageTag { get; init; } = "latest";

    /// <summary>A Redis connection string to use instead of deploying the cache (stored in the Secret); null deploys it.</summary>
    public string? ExternalRedisConnectionString { get; init; }

    /// <summary>
    /// The cluster's DNS domain: the gateway reaches each model server's pods at
    /// <c>{server}.{namespace}.svc.{domain}</c>, a fully qualified name that needs no search-list lookups.
    /// </summary>
    public string ClusterDomain { get; init; } = "cluster.local";

    /// <summary>The namespace Prometheus runs in: its pods may scrape the model servers.</summary>
    public string MonitoringNamespace { get; init; } = "monitoring";
}
