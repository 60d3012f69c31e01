using System.Text.Json;
using LlmAspire.Gateway.Routing;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.Model;

namespace LlmAspire.Gateway.Health;

/// <summary>
/// Passive health for servers that say they are going away: a destination that answered 503 <c>shutting_down</c> (a
/// model server draining after SIGTERM) or refused a connection (nothing listens: stopped, or not started yet) is
/// marked passively unhealthy at once, for <see cref="HealthOptions.ReactivationPeriod"/>, instead of waiting for the
/// failure rate or two failed <c>/health</c> probes. By the end of that period the active probes have seen it unready
/// (it stays out) or healthy again, restarted (it comes back). Busy servers (503 <c>queue_full</c>) are not ejected.
/// </summary>
internal sealed partial class ServerDrainEjection(
    IDestinationHealthUpdater healthUpdater,
    IProxyStateLookup proxyState,
    HealthOptions options,
    ILogger<ServerDrainEjection> logger)
{
    /// <summary>The error code of a model server that stops and takes no new requests.</summary>
    public const string ShuttingDownCode = "shutting_down";

    /// <summary>The longest 503 body read for its error code; an OpenAI error is far shorter.</summary>
    public const int MaxErrorBodyBytes = 4096;

    /// <summary>Ejects <paramref name="destination"/> when the attempt that went to it says the server is going away.</summary>
    public void Observe(HttpContext context, ProxyAttemptFeature attempt, DestinationState destination)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(attempt);
        ArgumentNullException.ThrowIfNull(destination);
        var reason = attempt.ShuttingDown ? "answered 503 shutting_down"
            : context.GetForwarderErrorFeature()?.Exception is { } exception && ServerReachability.IsRefused(exception) ? "refused the connection"
            : null;
        if (reason is null
            || !proxyState.TryGetCluster(context.GetReverseProxyFeature().Cluster.Config.ClusterId, out var cluster))
        {
            return;
        }

        if (destination.Health.Passive != DestinationHealth.Unhealthy)
        {
            LogEjected(logger, DestinationMetadata.ServerName(destination), reason, options.ReactivationPeriod.TotalSeconds);
        }

        healthUpdater.SetPassive(cluster, destination, DestinationHealth.Unhealthy, options.ReactivationPeriod);
    }

    /// <summary>Whether a 503's body is an OpenAI error with code <see cref="ShuttingDownCode"/>; reads at most <see cref="MaxErrorBodyBytes"/>.</summary>
    public static async Task<bool> IsShuttingDownAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(response);
        if (response.Content.Headers.ContentLength is > MaxErrorBodyBytes)
        {
            return false;
        }

        try
        {
            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
            var buffer = new byte[MaxErrorBodyBytes];
            var length = 0;
            int read;
            while (length < buffer.Length && (read = await body.ReadAsync(buffer.AsMemory(length), cancellationToken)) > 0)
            {
                length += read;
            }

            using var document = JsonDocument.Parse(buffer.AsMemory(0, length));
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("error", out var error)
                && error.ValueKind == JsonValueKind.Object
                && error.TryGetProperty("code", out var code)
                && code.ValueKind == JsonValueKind.String
                && code.ValueEquals(ShuttingDownCode);
        }
        catch (Exception ex) when (ex is JsonException or IOException or HttpRequestException or OperationCanceledException)
        {
            return false;
        }
    }

    [LoggerMessage(LogLevel.Warning, "Model server {Server} {Reason}: out of rotation for {Seconds:F0} s, then as its health probes say.")]
    private static partial void LogEjected(ILogger logger, string server, string reason, double seconds);
}
