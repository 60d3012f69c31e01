using LlmAspire.OpenAIApi.Models;
using System.Text.Json;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Model;
using LlmAspire.Gateway.Routing;
using LlmAspire.Gateway.LoadPolling;

namespace LlmAspire.Gateway.Catalog;

/// <summary>
/// Which cluster serves which model: the configured names, plus whatever each cluster's servers list at
/// <c>/v1/models</c>, read at most once per <see cref="RoutingOptions.ModelListCacheDuration"/> (stale answers are
/// served while a fresh read runs; concurrent callers share one read).
/// </summary>
internal sealed partial class ModelCatalog(
    IProxyStateLookup proxyState,
    IHttpClientFactory httpClientFactory,
    ModelRoutingTable table,
    RoutingOptions options,
    TimeProvider timeProvider,
    ILogger<ModelCatalog> logger)
{
    /// <summary>The owner of models the gateway knows only from its configuration.</summary>
    public const string ConfiguredOwner = "llmaspire";

    private readonly Lock _lock = new();
    private readonly long _startedAt = timeProvider.GetUtcNow().ToUnixTimeSeconds();
    private ModelCatalogSnapshot? _snapshot;
    private Task<ModelCatalogSnapshot>? _reading;

    /// <summary>
    /// The cluster of <paramref name="model"/>; null when no cluster serves it. A model the default cluster might
    /// serve, when its servers could not be asked, goes to the default cluster, which answers for itself.
    /// </summary>
    public async ValueTask<string?> ResolveClusterAsync(string model, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (table.TryGetConfiguredCluster(model, out var configured))
        {
            return configured.ClusterId;
        }

        var snapshot = await GetSnapshotAsync(cancellationToken);
        if (snapshot.Models.TryGetValue(model, out var entry))
        {
            return entry.ClusterId;
        }

        return table.DefaultCluster.Model is null && !snapshot.AnsweredClusters.Contains(table.DefaultClusterId)
            ? table.DefaultClusterId
            : null;
    }

    /// <summary>The models, fresh or at most one cache period stale.</summary>
    public Task<ModelCatalogSnapshot> GetSnapshotAsync(CancellationToken cancellationToken)
    {
        Task<ModelCatalogSnapshot> reading;
        lock (_lock)
        {
            if (_snapshot is { } fresh && timeProvider.GetElapsedTime(fresh.ReadAt) < options.ModelListCacheDuration)
            {
                return Task.FromResult(fresh);
            }

            reading = _reading ??= ReadAndStoreAsync();
            if (_snapshot is { } stale)
            {
                return Task.FromResult(stale);
            }
        }

        return reading.WaitAsync(cancellationToken);
    }

    private async Task<ModelCatalogSnapshot> ReadAndStoreAsync()
    {
        // Never completes synchronously, so _reading is assigned before it is cleared below.
        await Task.Yield();
        try
        {
            var snapshot = await ReadAsync();
            lock (_lock)
            {
                _snapshot = snapshot;
            }

            return snapshot;
        }
        finally
        {
            lock (_lock)
            {
                _reading = null;
            }
        }
    }

    private async Task<ModelCatalogSnapshot> ReadAsync()
    {
        var perCluster = await Task.WhenAll(table.Clusters.Select(async cluster =>
            (Cluster: cluster, Cards: await ReadClusterAsync(cluster.ClusterId))));

        var models = new Dictionary<string, ModelCatalogEntry>(StringComparer.Ordinal);
        var answered = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (cluster, cards) in perCluster)
        {
            if (cluster.Model is not null)
            {
                var card = cards?.FirstOrDefault(card => card.Id == cluster.Model) ?? new ModelCard(cluster.Model, _startedAt, ConfiguredOwner);
                Add(models, card, cluster.ClusterId);
            }

            if (cards is null)
            {
                continue;
            }

            answered.Add(cluster.ClusterId);
            foreach (var card in cards)
            {
                Add(models, card, cluster.ClusterId);
            }
        }

        return new ModelCatalogSnapshot(models, answered, timeProvider.GetTimestamp());
    }

    private void Add(Dictionary<string, ModelCatalogEntry> models, ModelCard card, string clusterId)
    {
        if (models.TryGetValue(card.Id, out var existing))
        {
            if (existing.ClusterId != clusterId)
            {
                LogModelInTwoClusters(logger, card.Id, existing.ClusterId, clusterId);
            }

            return;
        }

        models.Add(card.Id, new ModelCatalogEntry(card, clusterId));
    }

    /// <summary>The union of the cards the cluster's available servers list; null when none of them answered.</summary>
    private async Task<IReadOnlyList<ModelCard>?> ReadClusterAsync(string clusterId)
    {
        if (!proxyState.TryGetCluster(clusterId, out var cluster))
        {
            return null;
        }

        var destinations = cluster.DestinationsState.AvailableDestinations;
        if (destinations.Count == 0)
        {
            destinations = cluster.DestinationsState.AllDestinations;
        }

        var answers = await Task.WhenAll(destinations.Select(ReadServerAsync));
        var cards = new List<ModelCard>();
        var anyAnswered = false;
        foreach (var answer in answers)
        {
            if (answer is null)
            {
                continue;
            }

            anyAnswered = true;
            cards.AddRange(answer.Where(card => !cards.Any(known => known.Id == card.Id)));
        }

        return anyAnswered ? cards : null;
    }

    private async Task<IReadOnlyList<ModelCard>?> ReadServerAsync(DestinationState destination)
    {
        if (destination.Model?.Config.Address is not { Length: > 0 } address)
        {
            return null;
        }

        using var timeout = new CancellationTokenSource(options.ModelListTimeout, timeProvider);
        try
        {
            var client = httpClientFactory.CreateClient(DestinationLoadPoller.HttpClientName);
            var uri = new Uri(new Uri(address.EndsWith('/') ? address : address + "/"), "v1/models");
            using var request = DestinationLoadPoller.ProbeRequest(destination, uri);
            using var response = await client.SendAsync(request, timeout.Token);
            if (!response.IsSuccessStatusCode)
            {
                LogReadFailed(logger, destination.DestinationId, $"status {(int)response.StatusCode}");
                return null;
            }

            await using var body = await response.Content.ReadAsStreamAsync(timeout.Token);
            using var document = await JsonDocument.ParseAsync(body, cancellationToken: timeout.Token);
            return ParseModelList(document.RootElement, _startedAt);
        }
        catch (Exception exception) when (exception is HttpRequestException or IOException or JsonException or OperationCanceledException)
        {
            LogReadFailed(logger, destination.DestinationId, exception.Message);
            return null;
        }
    }

    /// <summary>The cards of an OpenAI model list; tolerant of extra or missing fields.</summary>
    internal static IReadOnlyList<ModelCard> ParseModelList(JsonElement root, long defaultCreated)
    {
        var cards = new List<ModelCard>();
        if (root.ValueKind != JsonValueKind.Object
            || !root.TryGetProperty("data", out var data)
            || data.ValueKind != JsonValueKind.Array)
        {
            return cards;
        }

        foreach (var model in data.EnumerateArray())
        {
            if (model.ValueKind != JsonValueKind.Object
                || !model.TryGetProperty("id", out var id)
                || id.ValueKind != JsonValueKind.String
                || string.IsNullOrEmpty(id.GetString()))
            {
                continue;
            }

            var created = model.TryGetProperty("created", out var c) && c.ValueKind == JsonValueKind.Number && c.TryGetInt64(out var seconds) ? seconds : defaultCreated;
            var owner = model.TryGetProperty("owned_by", out var o) && o.ValueKind == JsonValueKind.String ? o.GetString()! : ConfiguredOwner;
            cards.Add(new ModelCard(id.GetString()!, created, owner));
        }

        return cards;
    }

    [LoggerMessage(LogLevel.Debug, "Reading /v1/models of {Destination} failed: {Reason}")]
    private static partial void LogReadFailed(ILogger logger, string destination, string reason);

    [LoggerMessage(LogLevel.Warning, "Model {Model} is served by clusters {First} and {Second}; requests for it go to {First}.")]
    private static partial void LogModelInTwoClusters(ILogger logger, string model, string first, string second);
}
