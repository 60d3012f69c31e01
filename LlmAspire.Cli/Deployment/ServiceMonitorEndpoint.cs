using System.Text.Json.Serialization;

namespace LlmAspire.Cli.Deployment;

/// <summary>One scrape target of a ServiceMonitor: a named Service port and a path.</summary>
internal sealed class ServiceMonitorEndpoint
{
    [JsonPropertyName("port")]
    public string Port { get; set; } = "http";

    [JsonPropertyName("path")]
    public string Path { get; set; } = KubernetesNames.MetricsPath;

    [JsonPropertyName("interval")]
    public string Interval { get; set; } = "15s";
}
