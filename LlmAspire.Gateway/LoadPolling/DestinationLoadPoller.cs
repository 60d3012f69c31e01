using System.Diagnostics.Metrics;
using LlmAspire.Gateway.Telemetry;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Model;
using LlmAspire.Gateway.Routing;
using LlmAspire.Gateway.LoadBalancing;

namespace LlmAspire.Gateway.LoadPolling;

/// <summary>
/// Reads every destination's <c>/metrics</c> each <see cref="RoutingOptions.MetricsInterval"/>, for the clusters whose
/// policy uses the servers' load, into <see cref="DestinationLoadStore"/>. A read that fails keeps the last reading
/// (which ages out after <see cref="RoutingOptions.MetricsMaxAge"/>); a server without the metrics (404, or none of
/// vLLM's names) counts as unknown, and its load is the gateway's in-flight count.
/// </summary>
internal sealed partial class DestinationLoadPoller : BackgroundService
{
    /// <summary>The HttpClient for the gateway's own calls to model servers: short timeouts, no retries.</summary>
    public const string HttpClientName = "LlmAspire.Gateway.Probes";

    private readonly IProxyStateLookup _proxyState;
    private readonly IHttpClientFactory _httpClientFactory;
    private readonly DestinationLoadStore _store;
    private readonly DestinationLoadScorer _scorer;
    private readonly RoutingOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger<DestinationLoadPoller> _logger;

    public DestinationLoadPoller(
        IProxyStateLookup proxyState,
        IHttpClientFactory httpClientFactory,
        DestinationLoadStore store,
        DestinationLoadScorer scorer,
        RoutingOptions options,
        TimeProvider timeProvider,
        IMeterFactory meterFactory,
        ILogger<DestinationLoadPoller> logger)
    {
        _proxyState = proxyState;
        _httpClientFactory = httpClientFactory;
        _store = store;
        _scorer = scorer;
        _options = options;
        _timeProvider = timeProvider;
        _logger = logger;

        meterFactory.Create(GatewayMetrics.MeterName).CreateObservableGauge(
            "llmaspire.gateway.destination.load",
            ObserveLoads,
            "{request}",
            "Each destination's load as the load-aware policies see it: the server's waiting + running requests (+ KV usage), or the gateway's in-flight count.");
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_options.MetricsInterval <= TimeSpan.Zero)
        {
            return;
        }

        using var timer = new PeriodicTimer(_options.MetricsInterval, _timeProvider);
        try
        {
            do
            {
                await PollOnceAsync(stoppingToken);
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    /// <summary>Reads every destination of every load-aware cluster once, concurrently.</summary>
    internal Task PollOnceAsync(CancellationToken cancellationToken)
    {
        var reads = new List<Task>();
        foreach (var cluster in _proxyState.GetClusters())
        {
            if (!LlmLoadBalancingPolicies.UsesServerLoad(cluster.Model?.Config.LoadBalancingPolicy))
            {
                continue;
            }

            var model = DestinationMetadata.ModelName(cluster);
            foreach (var destination in cluster.Destinations.Values)
            {
                reads.Add(ReadAsync(destination, model, cancellationToken));
            }
        }

        return Task.WhenAll(reads);
    }

    private async Task ReadAsync(DestinationState destination, string? model, CancellationToken cancellationToken)
    {
        if (destination.Model?.Config.Address is not { Length: > 0 } address)
        {
            return;
        }

        using var timeout = new CancellationTokenSource(_options.MetricsTimeout, _timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, cancellationToken);
        try
        {
            var client = _httpClientFactory.CreateClient(HttpClientName);
            using var request = ProbeRequest(destination, MetricsUri(address));
            using var response = await client.SendAsync(request, linked.Token);
            if (response.StatusCode == System.Net.HttpStatusCode.NotFound)
            {
                // The server exposes no metrics (yet): its load is unknown, not stale.
                _store.Set(destination, new DestinationLoadSample(ModelServerLoad.Unknown, _timeProvider.GetTimestamp(), destination.ConcurrentRequestCount));
                return;
            }

            response.EnsureSuccessStatusCode();
            var text = await response.Content.ReadAsStringAsync(linked.Token);
            var load = PrometheusLoadParser.Parse(text, model);
            _store.Set(destination, new DestinationLoadSample(load, _timeProvider.GetTimestamp(), destination.ConcurrentRequestCount));
        }
        catch (Exception exception) when (exception is HttpRequestException or IOException
            || (exception is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            _store.RecordFailure(destination);
            LogReadFailed(_logger, destination.DestinationId, exception.Message);
        }
    }

    /// <summary>
    /// A GET of <paramref name="uri"/> on the destination, with the <c>Host</c> header (and so TLS SNI) YARP sends it:
    /// a destination resolved to a pod's address is still reached under the server's name.
    /// </summary>
    internal static HttpRequestMessage ProbeRequest(DestinationState destination, Uri uri)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, uri);
        if (destination.Model?.Config.Host is { Length: > 0 } host)
        {
            request.Headers.Host = host;
        }

        return request;
    }

    /// <summary><c>{address}/metrics</c>, keeping any path the address has.</summary>
    internal static Uri MetricsUri(string address) =>
        new(new Uri(address.EndsWith('/') ? address : address + "/"), "metrics");

    private IEnumerable<Measurement<double>> ObserveLoads()
    {
        foreach (var cluster in _proxyState.GetClusters())
        {
            foreach (var destination in cluster.Destinations.Values)
            {
                yield return new Measurement<double>(
                    _scorer.Score(destination),
                    new KeyValuePair<string, object?>("cluster", cluster.ClusterId),
                    new KeyValuePair<string, object?>("destination", DestinationMetadata.ServerName(destination)));
            }
        }
    }

    [LoggerMessage(LogLevel.Debug, "Reading /metrics of {Destination} failed: {Reason}")]
    private static partial void LogReadFailed(ILogger logger, string destination, string reason);
}
