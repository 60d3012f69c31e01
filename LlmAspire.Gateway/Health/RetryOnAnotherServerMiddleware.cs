using LlmAspire.Gateway.Routing;
using LlmAspire.Gateway.Telemetry;
using LlmAspire.OpenAIApi.Errors;
using Microsoft.AspNetCore.Http.Features;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.Model;
using Yarp.ReverseProxy.Transforms;

namespace LlmAspire.Gateway.Health;

/// <summary>
/// A proxy pipeline step around load balancing, passive health and forwarding: when the forwarded request failed
/// before any response byte reached the client — a transport failure (connection refused or reset, the server gone
/// before its response headers) or a 503 from a server that is loading, draining or full — it is forwarded again, to
/// another available server not tried yet, chosen by the cluster's policy, up to <see cref="MaxAttempts"/> attempts in
/// all. Each attempt passes the passive health check, so the failed server is counted against; a server that refused
/// the connection or answered 503 <c>shutting_down</c> is taken out of rotation at once (<see cref="ServerDrainEjection"/>).
/// Only requests whose body can be replayed qualify (bodiless, or buffered by <c>CompletionRequestMiddleware</c>); a
/// response that has started (a stream under way) is never retried.
/// A server that sent no headers within <see cref="TimeoutOptions.FirstByte"/>, or was declared unreachable while it
/// ran the request (<see cref="UpstreamWatchdogHandler"/>), counts as a transport failure; when that was the last
/// attempt, the client gets an OpenAI error saying so (504 <c>model_server_timeout</c>, 502
/// <c>model_server_unreachable</c>).
/// </summary>
internal sealed partial class RetryOnAnotherServerMiddleware(
    RequestDelegate next,
    HealthOptions options,
    GatewayMetrics metrics,
    IDestinationHealthUpdater healthUpdater,
    IProxyStateLookup proxyState,
    ILoggerFactory loggerFactory)
{
    private readonly ServerDrainEjection _ejection = new(healthUpdater, proxyState, options, loggerFactory.CreateLogger<ServerDrainEjection>());
    private readonly ILogger _logger = loggerFactory.CreateLogger<RetryOnAnotherServerMiddleware>();

    /// <summary>The response header that names the server a retried request failed on first.</summary>
    public const string RetriedFromHeader = "x-llmaspire-retried-from";

    /// <summary>The retry reason of a transport failure.</summary>
    public const string TransportFailure = "transport";

    /// <summary>The retry reason of a 503 answer.</summary>
    public const string Unavailable = "unavailable";

    /// <summary>The retry reason of a server that sent no response headers within <see cref="TimeoutOptions.FirstByte"/>.</summary>
    public const string Timeout = "timeout";

    /// <summary>
    /// Attempts one request gets at most, each on a different server: enough for a request that meets a draining
    /// server and then one that has just gone away (a rolling restart), few enough that a fleet-wide failure is
    /// answered quickly.
    /// </summary>
    public const int MaxAttempts = 3;

    public async Task InvokeAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var candidates = context.GetReverseProxyFeature().AvailableDestinations;
        var replayable = options.RetryOnAnotherServer && CanReplayBody(context);
        var attempt = new ProxyAttemptFeature { RetryAllowed = replayable && candidates.Count > 1 };
        context.Features.Set(attempt);
        var telemetry = context.GetGatewayTelemetry();
        telemetry.Attempts = 1;
        var tried = new List<DestinationState>(MaxAttempts);

        while (true)
        {
            await next(context);

            var proxy = context.GetReverseProxyFeature();
            var failed = proxy.ProxiedDestination;
            if (failed is not null)
            {
                _ejection.Observe(context, attempt, failed);
            }

            var reason = attempt.RetryAllowed ? RetryReason(context, attempt) : null;
            if (reason is null || failed is null || context.Response.HasStarted || context.RequestAborted.IsCancellationRequested)
            {
                await WriteUpstreamErrorAsync(context);
                return;
            }

            tried.Add(failed);
            var remaining = candidates.Where(destination => !tried.Contains(destination)).ToArray();
            var model = telemetry.Model ?? proxy.Cluster.Config.ClusterId;
            LogRetrying(_logger, model, DestinationMetadata.ServerName(failed), reason);
            metrics.RecordRetry(model, failed, reason);

            context.Response.Clear();
            context.Response.Headers[RetriedFromHeader] = DestinationMetadata.ServerName(tried[0]);
            context.Features.Set<IForwarderErrorFeature>(null);
            if (context.Request.Body.CanSeek)
            {
                context.Request.Body.Position = 0;
            }

            telemetry.Attempts = tried.Count + 1;
            attempt.RetryAllowed = telemetry.Attempts < MaxAttempts && remaining.Length > 1;
            attempt.SuppressedStatus = null;
            attempt.ShuttingDown = false;
            proxy.AvailableDestinations = remaining;
            proxy.ProxiedDestination = null;
        }
    }

    /// <summary>
    /// The response transform half: holds back the body of a 503 that will be retried, so nothing reaches the client,
    /// and reads it (a short OpenAI error) to tell a draining server (<c>shutting_down</c>) from a busy one.
    /// </summary>
    public static async ValueTask HoldBackRetryableResponseAsync(ResponseTransformContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.ProxyResponse?.StatusCode == System.Net.HttpStatusCode.ServiceUnavailable
            && context.HttpContext.Features.Get<ProxyAttemptFeature>() is { RetryAllowed: true } attempt)
        {
            context.SuppressResponseBody = true;
            attempt.SuppressedStatus = StatusCodes.Status503ServiceUnavailable;
            attempt.ShuttingDown = await ServerDrainEjection.IsShuttingDownAsync(context.ProxyResponse, context.CancellationToken);
        }
    }

    private static string? RetryReason(HttpContext context, ProxyAttemptFeature attempt)
    {
        if (attempt.SuppressedStatus is not null)
        {
            return Unavailable;
        }

        return context.GetForwarderErrorFeature() switch
        {
            { Error: ForwarderError.Request or ForwarderError.RequestBodyDestination or ForwarderError.ResponseBodyDestination } => TransportFailure,
            { Error: ForwarderError.RequestTimedOut, Exception: UpstreamTimeoutException } => Timeout,
            _ => null,
        };
    }

    /// <summary>
    /// Answers a request whose last attempt failed on the watchdog's timeout or reachability (YARP leaves the body empty)
    /// with an OpenAI error that says which.
    /// </summary>
    private static Task WriteUpstreamErrorAsync(HttpContext context)
    {
        if (context.Response.HasStarted || context.RequestAborted.IsCancellationRequested)
        {
            return Task.CompletedTask;
        }

        return context.GetForwarderErrorFeature()?.Exception switch
        {
            UpstreamTimeoutException timeout => OpenAIErrorResults.WriteAsync(context, StatusCodes.Status504GatewayTimeout, UpstreamErrors.NoAnswer(timeout.FirstByte)),
            UpstreamUnreachableException => OpenAIErrorResults.WriteAsync(context, StatusCodes.Status502BadGateway, UpstreamErrors.Unreachable),
            _ => Task.CompletedTask,
        };
    }

    /// <summary>Whether the request's body can be sent again: none, or buffered (seekable).</summary>
    private static bool CanReplayBody(HttpContext context) =>
        context.Features.Get<IHttpRequestBodyDetectionFeature>() is { CanHaveBody: false }
        || context.Request.ContentLength == 0
        || context.Request.Body.CanSeek;

    [LoggerMessage(LogLevel.Warning, "Retrying a {Model} request on another server: {Server} failed ({Reason}) before answering.")]
    private static partial void LogRetrying(ILogger logger, string model, string server, string reason);
}
