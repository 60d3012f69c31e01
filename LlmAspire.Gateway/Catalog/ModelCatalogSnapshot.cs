using LlmAspire.OpenAIApi.Models;

namespace LlmAspire.Gateway.Catalog;

/// <summary>Every model the gateway serves and its cluster, as of one reading of the servers' <c>/v1/models</c>.</summary>
/// <param name="Models">Model id → its card and cluster, in listing order.</param>
/// <param name="AnsweredClusters">The clusters at least one of whose servers answered.</param>
/// <param name="ReadAt">When it was read, as a <see cref="TimeProvider"/> timestamp.</param>
internal sealed record ModelCatalogSnapshot(
    IReadOnlyDictionary<string, ModelCatalogEntry> Models,
    IReadOnlySet<string> AnsweredClusters,
    long ReadAt);

/// <summary>One model: its card and the cluster that serves it.</summary>
internal sealed record ModelCatalogEntry(ModelCard Card, string ClusterId);
