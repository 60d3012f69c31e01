using Yarp.ReverseProxy.Model;

namespace LlmAspire.Gateway.Routing;

/// <summary>What the gateway records on YARP's clusters and destinations, and reads back.</summary>
public static class DestinationMetadata
{
    /// <summary>Destination metadata: the server as configured (<c>modelserver-0</c>), which service discovery keeps.</summary>
    public const string ServerKey = "LlmAspire.Server";

    /// <summary>Cluster metadata: the model the cluster serves, when configured.</summary>
    public const string ModelKey = "LlmAspire.Model";

    /// <summary>The server as configured; the destination id where the destination carries no metadata.</summary>
    public static string ServerName(DestinationState destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        return destination.Model is { } model
            && model.Config.Metadata is { } metadata
            && metadata.TryGetValue(ServerKey, out var server)
            ? server
            : destination.DestinationId;
    }

    /// <summary>The model a cluster was configured for; null where the servers' <c>/v1/models</c> names it.</summary>
    public static string? ModelName(ClusterState cluster)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        return cluster.Model is { } model
            && model.Config.Metadata is { } metadata
            && metadata.TryGetValue(ModelKey, out var name)
            ? name
            : null;
    }
}
