namespace LlmAspire.Cli.Deployment;

/// <summary>The labels, ports and names the generated objects share (and the tests check).</summary>
internal static class KubernetesNames
{
    public const string NameLabel = "app.kubernetes.io/name";
    public const string ComponentLabel = "app.kubernetes.io/component";
    public const string PartOfLabel = "app.kubernetes.io/part-of";
    public const string ManagedByLabel = "app.kubernetes.io/managed-by";
    public const string PartOf = "llmaspire";

    public const string ModelServerComponent = "modelserver";
    public const string GatewayComponent = "gateway";
    public const string CacheComponent = "cache";

    /// <summary>The Secret that holds the manifest's secret parameters (the API key, the cache password).</summary>
    public const string ParametersSecret = "llmaspire-parameters";

    /// <summary>The port ASP.NET Core listens on in the .NET container images.</summary>
    public const int ProjectContainerPort = 8080;

    public const string HealthPath = "/health";
    public const string AlivePath = "/alive";
    public const string MetricsPath = "/metrics";

    /// <summary>The metric the HPA scales on, as the model server exports it.</summary>
    public const string ScalingMetric = "vllm:num_requests_waiting";

    public const string GpuResource = "nvidia.com/gpu";

    /// <summary>The redis_exporter sidecar that gives Prometheus <c>redis_up</c>.</summary>
    public const string RedisExporterImage = "docker.io/oliver006/redis_exporter:v1.67.0";
    public const int RedisExporterPort = 9121;

    /// <summary>Where model servers cache <c>hf:</c> downloads.</summary>
    public const string ModelCacheDirectory = "/var/cache/llmaspire";
}
