using System.Diagnostics.CodeAnalysis;

namespace LlmAspire.Gateway.Routing;

/// <summary>
/// The clusters the configuration describes and which one serves a configured model.
/// <c>Gateway:ModelServers</c> is the <c>modelservers</c> cluster, whose model is <c>Gateway:DefaultModel</c> or, when
/// that is empty, whatever its servers' <c>/v1/models</c> list; each <c>Gateway:Models:{name}</c> is a
/// <c>model-{name}</c> cluster. Requests that name no model go to the default cluster: <c>modelservers</c> when
/// configured, else <c>Gateway:DefaultModel</c>'s, else the first model in ordinal order.
/// </summary>
public sealed class ModelRoutingTable
{
    private readonly Dictionary<string, ModelClusterDefinition> _byModel;
    private readonly Dictionary<string, ModelClusterDefinition> _byCluster;

    private ModelRoutingTable(IReadOnlyList<ModelClusterDefinition> clusters, string defaultClusterId)
    {
        Clusters = clusters;
        DefaultClusterId = defaultClusterId;
        _byCluster = clusters.ToDictionary(cluster => cluster.ClusterId, StringComparer.Ordinal);
        _byModel = clusters.Where(cluster => cluster.Model is not null)
            .GroupBy(cluster => cluster.Model!, StringComparer.Ordinal)
            .ToDictionary(group => group.Key, group => group.First(), StringComparer.Ordinal);
    }

    /// <summary>Every cluster, the default first.</summary>
    public IReadOnlyList<ModelClusterDefinition> Clusters { get; }

    /// <summary>The cluster of requests that name no model.</summary>
    public string DefaultClusterId { get; }

    /// <summary>The default cluster.</summary>
    public ModelClusterDefinition DefaultCluster => _byCluster[DefaultClusterId];

    /// <summary>The cluster configured for <paramref name="model"/> (ordinal: model ids are case-sensitive).</summary>
    public bool TryGetConfiguredCluster(string model, [NotNullWhen(true)] out ModelClusterDefinition? cluster) =>
        _byModel.TryGetValue(model, out cluster);

    /// <summary>The cluster with the id.</summary>
    public bool TryGetCluster(string clusterId, [NotNullWhen(true)] out ModelClusterDefinition? cluster) =>
        _byCluster.TryGetValue(clusterId, out cluster);

    /// <summary>Reads the clusters from <paramref name="options"/>; an empty table when it describes none.</summary>
    public static ModelRoutingTable From(GatewayOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var clusters = new List<ModelClusterDefinition>();
        if (options.ModelServers.Length > 0)
        {
            clusters.Add(new ModelClusterDefinition(
                ModelServerProxyConfig.ClusterId,
                ModelServerProxyConfig.RouteIdFor(ModelServerProxyConfig.ClusterId),
                string.IsNullOrWhiteSpace(options.DefaultModel) ? null : options.DefaultModel,
                options.ModelServers,
                options.LoadBalancingPolicy));
        }

        foreach (var (model, cluster) in options.Models.OrderBy(pair => pair.Key, StringComparer.Ordinal))
        {
            var clusterId = ModelServerProxyConfig.ModelClusterId(model);
            clusters.Add(new ModelClusterDefinition(
                clusterId,
                ModelServerProxyConfig.RouteIdFor(clusterId),
                model,
                cluster.Servers,
                string.IsNullOrWhiteSpace(cluster.Policy) ? options.LoadBalancingPolicy : cluster.Policy));
        }

        if (clusters.Count == 0)
        {
            return new ModelRoutingTable([], string.Empty);
        }

        var defaultCluster = options.ModelServers.Length > 0
            ? clusters[0]
            : clusters.FirstOrDefault(cluster => string.Equals(cluster.Model, options.DefaultModel, StringComparison.Ordinal)) ?? clusters[0];
        clusters.Remove(defaultCluster);
        clusters.Insert(0, defaultCluster);
        return new ModelRoutingTable(clusters, defaultCluster.ClusterId);
    }
}
