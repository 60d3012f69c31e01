using System.Text.Json.Serialization;
using k8s;
using k8s.Models;

namespace LlmAspire.Cli.Deployment;

/// <summary>The Prometheus Operator's <c>monitoring.coreos.com/v1</c> ServiceMonitor: the fields we set.</summary>
internal sealed class ServiceMonitor : IKubernetesObject<V1ObjectMeta>
{
    public const string KubeApiVersion = "monitoring.coreos.com/v1";
    public const string KubeKind = "ServiceMonitor";

    [JsonPropertyName("apiVersion")]
    public string ApiVersion { get; set; } = KubeApiVersion;

    [JsonPropertyName("kind")]
    public string Kind { get; set; } = KubeKind;

    [JsonPropertyName("metadata")]
    public V1ObjectMeta Metadata { get; set; } = new();

    [JsonPropertyName("spec")]
    public ServiceMonitorSpec Spec { get; set; } = new();
}
