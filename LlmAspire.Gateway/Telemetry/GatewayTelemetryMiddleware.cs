namespace LlmAspire.Gateway.Telemetry;

/// <summary>Times every request but health probes and metric scrapes, and records it in <see cref="GatewayMetrics"/> when its response ends.</summary>
public sealed class GatewayTelemetryMiddleware(RequestDelegate next, GatewayMetrics metrics, TimeProvider timeProvider)
{
    /// <summary>A Prometheus scrape path, not counted as a request.</summary>
    public const string MetricsPath = "/metrics";

    /// <summary>Runs the middleware.</summary>
    public async Task InvokeAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var path = context.Request.Path;
        if (path.StartsWithSegments(Microsoft.Extensions.Hosting.Extensions.HealthEndpointPath)
            || path.StartsWithSegments(Microsoft.Extensions.Hosting.Extensions.AlivenessEndpointPath)
            || path.StartsWithSegments(MetricsPath))
        {
            await next(context);
            return;
        }

        context.GetGatewayTelemetry();
        var start = timeProvider.GetTimestamp();
        long firstByte = 0;
        context.Response.OnStarting(() =>
        {
            firstByte = timeProvider.GetTimestamp();
            return Task.CompletedTask;
        });

        var failed = false;
        try
        {
            await next(context);
        }
        catch
        {
            // The exception handler turns it into a 500 after this middleware has returned.
            failed = true;
            throw;
        }
        finally
        {
            metrics.RecordRequest(
                context,
                timeProvider.GetElapsedTime(start),
                firstByte == 0 ? null : timeProvider.GetElapsedTime(start, firstByte),
                failed && !context.Response.HasStarted ? StatusCodes.Status500InternalServerError : null);
        }
    }
}
