using System.Text.Json.Serialization;
using k8s.Models;

namespace LlmAspire.Cli.Deployment;

/// <summary>A ServiceMonitor's spec: which Services, which port and path, and the label that becomes <c>job</c>.</summary>
internal sealed class ServiceMonitorSpec
{
    [JsonPropertyName("jobLabel")]
    public string? JobLabel { get; set; }

    [JsonPropertyName("selector")]
    public V1LabelSelector Selector { get; set; } = new();

    [JsonPropertyName("endpoints")]
    public IList<ServiceMonitorEndpoint> Endpoints { get; set; } = [];
}
