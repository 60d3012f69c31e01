namespace LlmAspire.Gateway.Health;

/// <summary>
/// The innermost step of every call the proxy makes to a model server. A forwarded request (marked with
/// <see cref="MarkForwarded"/>) gets <see cref="TimeoutOptions.FirstByte"/> for its response headers and
/// <see cref="TimeoutOptions.StreamIdle"/> between reads of its body (<see cref="WatchedResponseStream"/>), and ends at
/// once when its server is declared unreachable; its failures surface as errors YARP reports and
/// <see cref="RetryOnAnotherServerMiddleware"/> retries. The active <c>/health</c> probes pass through unchanged, but
/// what they get (an answer or none) and every refused connection feed <see cref="ServerReachability"/>.
/// </summary>
internal sealed class UpstreamWatchdogHandler(
    HttpMessageHandler inner, TimeoutOptions timeouts, ServerReachability reachability, ILogger logger)
    : DelegatingHandler(inner)
{
    private static readonly HttpRequestOptionsKey<HttpContext> s_forwardedFor = new("LlmAspire.Gateway.ForwardedFor");

    /// <summary>Marks <paramref name="request"/> as the forwarded form of <paramref name="context"/>'s request (a request transform).</summary>
    public static void MarkForwarded(HttpRequestMessage request, HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.Options.Set(s_forwardedFor, context);
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var uri = request.RequestUri ?? throw new ArgumentException("The request has no URI.", nameof(request));
        if (!request.Options.TryGetValue(s_forwardedFor, out var context))
        {
            return await ProbeAsync(request, uri, cancellationToken);
        }

        var unreachable = reachability.InFlightToken(uri);
        using var headers = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, unreachable);
        headers.CancelAfter(timeouts.FirstByte);
        HttpResponseMessage response;
        try
        {
            response = await base.SendAsync(request, headers.Token);
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
        {
            if (unreachable.IsCancellationRequested)
            {
                throw new UpstreamUnreachableException(uri.Authority, exception);
            }

            if (headers.IsCancellationRequested)
            {
                throw new UpstreamTimeoutException(timeouts.FirstByte, exception);
            }

            reachability.RequestFailed(uri, exception);
            throw;
        }

        reachability.Answered(uri);
        var events = string.Equals(response.Content.Headers.ContentType?.MediaType, "text/event-stream", StringComparison.OrdinalIgnoreCase);
        response.Content = new WatchedContent(
            response.Content,
            body => new WatchedResponseStream(body, events, timeouts.StreamIdle, unreachable, context, logger));
        return response;
    }

    private async Task<HttpResponseMessage> ProbeAsync(HttpRequestMessage request, Uri uri, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        try
        {
            response = await base.SendAsync(request, cancellationToken);
        }
        catch (Exception exception)
        {
            reachability.ProbeUnanswered(uri, exception);
            throw;
        }

        reachability.Answered(uri);
        return response;
    }
}
