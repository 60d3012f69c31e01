using System.Diagnostics;
using System.Diagnostics.Metrics;
using LlmAspire.Gateway.Routing;
using Microsoft.AspNetCore.Routing;
using Yarp.ReverseProxy.Model;

namespace LlmAspire.Gateway.Telemetry;

/// <summary>
/// The <c>LlmAspire.Gateway</c> meter: requests and their duration and time to first byte by route, model,
/// destination, status and cache result; retries on another server; prefix-affinity decisions.
/// </summary>
public sealed class GatewayMetrics
{
    /// <summary>The meter's name, exported through <c>AddServiceDefaults(GatewayMetrics.MeterName)</c>.</summary>
    public const string MeterName = "LlmAspire.Gateway";

    /// <summary>The status tag of a request the client abandoned (nginx's 499).</summary>
    public const int ClientClosedRequest = 499;

    /// <summary>A tag's value where it does not apply.</summary>
    public const string None = "none";

    private readonly Counter<long> _requests;
    private readonly Histogram<double> _duration;
    private readonly Histogram<double> _timeToFirstByte;
    private readonly Counter<long> _retries;
    private readonly Counter<long> _affinity;

    public GatewayMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(MeterName);
        _requests = meter.CreateCounter<long>("llmaspire.gateway.requests", "{request}", "Requests answered, by route, model, destination, status and cache result.");
        _duration = meter.CreateHistogram<double>("llmaspire.gateway.request.duration", "s", "Time from the request's arrival to the end of its response (a stream's last event).");
        _timeToFirstByte = meter.CreateHistogram<double>("llmaspire.gateway.time_to_first_byte", "s", "Time until the response started (a stream's first event).");
        _retries = meter.CreateCounter<long>("llmaspire.gateway.retries", "{request}", "Requests forwarded again to another server after the first failed before any response byte.");
        _affinity = meter.CreateCounter<long>("llmaspire.gateway.affinity", "{decision}", "Prefix-affinity decisions: hit (the affine server), new (key not seen yet, least loaded taken), fallback (busier by more than the margin), none (no key).");
    }

    /// <summary>Records a request that has ended.</summary>
    public void RecordRequest(HttpContext context, TimeSpan duration, TimeSpan? timeToFirstByte, int? status = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        var feature = context.Features.Get<GatewayRequestTelemetryFeature>();
        var proxy = context.Features.Get<IReverseProxyFeature>();
        status ??= context.RequestAborted.IsCancellationRequested ? ClientClosedRequest : context.Response.StatusCode;
        var tags = new TagList
        {
            { "route", RouteOf(context, proxy) },
            { "model", feature?.Model ?? None },
            { "destination", proxy?.ProxiedDestination is { } destination ? DestinationMetadata.ServerName(destination) : None },
            { "status", status.Value },
            { "cache", feature?.CacheResult ?? None },
        };
        _requests.Add(1, tags);
        _duration.Record(duration.TotalSeconds, tags);
        if (timeToFirstByte is { } ttfb)
        {
            _timeToFirstByte.Record(ttfb.TotalSeconds, tags);
        }
    }

    /// <summary>Records a retry on another server after <paramref name="failed"/> failed for <paramref name="reason"/>.</summary>
    public void RecordRetry(string model, DestinationState failed, string reason) =>
        _retries.Add(1, new TagList
        {
            { "model", model },
            { "destination", DestinationMetadata.ServerName(failed) },
            { "reason", reason },
        });

    /// <summary>Records a prefix-affinity decision.</summary>
    public void RecordAffinity(string cluster, string outcome) =>
        _affinity.Add(1, new TagList { { "cluster", cluster }, { "outcome", outcome } });

    private static string RouteOf(HttpContext context, IReverseProxyFeature? proxy)
    {
        if (proxy?.Route is { } route)
        {
            return route.Config.RouteId;
        }

        var endpoint = context.GetEndpoint();
        return endpoint?.Metadata.GetMetadata<RouteModel>()?.Config.RouteId
            ?? (endpoint as RouteEndpoint)?.RoutePattern.RawText
            ?? None;
    }
}
