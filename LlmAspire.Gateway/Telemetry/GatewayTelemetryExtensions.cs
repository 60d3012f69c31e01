using OpenTelemetry.Metrics;

namespace LlmAspire.Gateway.Telemetry;

/// <summary>Access to the per-request telemetry feature and registration of the gateway's metrics.</summary>
public static class GatewayTelemetryExtensions
{
    /// <summary>The request's telemetry feature, created when absent (so features can set tags in any order).</summary>
    public static GatewayRequestTelemetryFeature GetGatewayTelemetry(this HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var feature = context.Features.Get<GatewayRequestTelemetryFeature>();
        if (feature is null)
        {
            feature = new GatewayRequestTelemetryFeature();
            context.Features.Set(feature);
        }

        return feature;
    }

    /// <summary>Tags the request's metrics with the cache's answer (<c>hit</c>, <c>miss</c>, <c>bypass</c>).</summary>
    public static void SetCacheResult(this HttpContext context, string cacheResult) =>
        context.GetGatewayTelemetry().CacheResult = cacheResult;

    /// <summary>
    /// Registers the <see cref="GatewayMetrics.MeterName"/> meter's instruments, and a Prometheus exporter beside
    /// ServiceDefaults' OTLP one so that <c>/metrics</c> serves them (as <c>llmaspire_gateway_requests_total</c> etc.).
    /// </summary>
    public static IServiceCollection AddGatewayTelemetry(this IServiceCollection services)
    {
        services.AddMetrics();
        services.AddSingleton<GatewayMetrics>();
        services.AddOpenTelemetry().WithMetrics(metrics => metrics.AddMeter(GatewayMetrics.MeterName).AddPrometheusExporter());
        return services;
    }

    /// <summary>Maps the Prometheus scrape endpoint, <c>/metrics</c> (outside <c>/v1</c>: no API key needed, like <c>/health</c>).</summary>
    public static IEndpointRouteBuilder MapGatewayMetrics(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPrometheusScrapingEndpoint("/metrics");
        return endpoints;
    }

    /// <summary>Measures every request but health probes; place it first, so it sees cache hits and refusals too.</summary>
    public static IApplicationBuilder UseGatewayTelemetry(this IApplicationBuilder app) =>
        app.UseMiddleware<GatewayTelemetryMiddleware>();
}
