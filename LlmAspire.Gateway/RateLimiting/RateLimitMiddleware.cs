using System.Globalization;
using LlmAspire.Gateway.Requests;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using LlmAspire.OpenAIApi.Errors;
using LlmAspire.Gateway.Auth;

namespace LlmAspire.Gateway.RateLimiting;

/// <summary>
/// Per-key requests and tokens per minute on every <c>/v1/*</c> request, as OpenAI reports them: the
/// <c>x-ratelimit-{limit,remaining,reset}-{requests,tokens}</c> headers on every answer, and 429 with
/// <c>Retry-After</c> over a limit. Tokens are reserved up front (<see cref="TokenEstimator"/>) and corrected with the
/// response's <c>usage</c>. When the store (Redis) does not answer, requests go through unchecked (fail open, counted
/// in <c>llmaspire.gateway.ratelimit.unavailable</c> and logged by <see cref="Caching.RedisCircuitBreaker"/>).
/// </summary>
public sealed partial class RateLimitMiddleware(
    RequestDelegate next,
    IRateLimitStore store,
    IOptions<RateLimitOptions> options,
    TimeProvider timeProvider,
    RateLimitMetrics metrics,
    ILogger<RateLimitMiddleware> logger)
{
    /// <summary>Runs the middleware.</summary>
    public async Task InvokeAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var limits = options.Value;
        if (!limits.IsEnabled || !context.Request.Path.StartsWithSegments(ApiKeyMiddleware.ProtectedPath))
        {
            await next(context);
            return;
        }

        var identity = context.GetApiKeyIdentity();
        var completion = context.GetCompletionRequest();
        var tokenCost = limits.TokensPerMinute > 0 && completion is not null ? TokenEstimator.Reserve(completion, limits) : 0;
        var position = SlidingWindow.Locate(timeProvider.GetUtcNow(), SlidingWindow.Minute);

        if (limits.TokensPerMinute > 0 && tokenCost > limits.TokensPerMinute)
        {
            metrics.RateLimited("tokens");
            context.Response.Headers.RetryAfter = SlidingWindow.RetryAfterSeconds(SlidingWindow.Minute).ToString(CultureInfo.InvariantCulture);
            await OpenAIErrorResults.WriteAsync(
                context,
                StatusCodes.Status429TooManyRequests,
                new OpenAIError(
                    $"Request too large for tokens per min (TPM): Limit {limits.TokensPerMinute}, Requested {tokenCost} "
                    + "(the estimated prompt tokens plus max_tokens × n). Reduce max_tokens or the prompt.",
                    "tokens",
                    null,
                    "rate_limit_exceeded"));
            return;
        }

        var counts = await store.TryAcquireAsync(
            new RateLimitRequest(identity.Id, position.Index, position.PreviousWeight, limits.RequestsPerMinute, limits.TokensPerMinute, tokenCost),
            context.RequestAborted);
        if (counts is not { } c)
        {
            metrics.RateLimitUnavailable();
            await next(context);
            return;
        }

        WriteHeaders(context.Response.Headers, limits, c, position);
        if (!c.Allowed)
        {
            await RejectAsync(context, limits, c, position, tokenCost);
            return;
        }

        if (tokenCost == 0)
        {
            await next(context);
            return;
        }

        var bodyFeature = context.Features.Get<IHttpResponseBodyFeature>()!;
        var observer = new UsageObserverStream(bodyFeature.Stream, context.Response);
        context.Features.Set<IHttpResponseBodyFeature>(new StreamResponseBodyFeature(observer, bodyFeature));
        try
        {
            await next(context);
        }
        finally
        {
            context.Features.Set(bodyFeature);
        }

        observer.Complete();
        var spent = observer.TotalTokens ?? (context.Response.StatusCode >= 400 ? 0 : tokenCost);
        if (spent != tokenCost)
        {
            if (!context.RequestAborted.IsCancellationRequested)
            {
                // The client has its whole answer before the correction's round trip.
                await context.Response.CompleteAsync();
            }

            await store.AdjustTokensAsync(identity.Id, position.Index, spent - tokenCost, CancellationToken.None);
        }
    }

    private async Task RejectAsync(HttpContext context, RateLimitOptions limits, RateLimitCounts counts, WindowPosition position, long tokenCost)
    {
        var requestWait = SlidingWindow.RetryAfter(limits.RequestsPerMinute, counts.PreviousRequests, counts.CurrentRequests, position, 1);
        var tokenWait = SlidingWindow.RetryAfter(limits.TokensPerMinute, counts.PreviousTokens, counts.CurrentTokens, position, tokenCost);
        var byRequests = requestWait >= tokenWait;
        var wait = byRequests ? requestWait : tokenWait;
        var retryAfter = SlidingWindow.RetryAfterSeconds(wait);
        metrics.RateLimited(byRequests ? "requests" : "tokens");
        LogRateLimited(logger, context.GetApiKeyIdentity().Id[..Math.Min(8, context.GetApiKeyIdentity().Id.Length)], byRequests ? "requests" : "tokens", retryAfter);

        context.Response.Headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);
        var message = byRequests
            ? $"Rate limit reached for requests per min (RPM): Limit {limits.RequestsPerMinute}, "
                + $"Used {(long)Math.Ceiling(SlidingWindow.Estimate(counts.PreviousRequests, counts.CurrentRequests, position.PreviousWeight))}, Requested 1. "
                + $"Please try again in {SlidingWindow.FormatDuration(wait)}."
            : $"Rate limit reached for tokens per min (TPM): Limit {limits.TokensPerMinute}, "
                + $"Used {(long)Math.Ceiling(SlidingWindow.Estimate(counts.PreviousTokens, counts.CurrentTokens, position.PreviousWeight))}, Requested {tokenCost}. "
                + $"Please try again in {SlidingWindow.FormatDuration(wait)}.";
        await OpenAIErrorResults.WriteAsync(
            context, StatusCodes.Status429TooManyRequests, new OpenAIError(message, byRequests ? "requests" : "tokens", null, "rate_limit_exceeded"));
    }

    /// <summary>OpenAI's rate-limit headers for each configured limit.</summary>
    internal static void WriteHeaders(IHeaderDictionary headers, RateLimitOptions limits, RateLimitCounts counts, WindowPosition position)
    {
        if (limits.RequestsPerMinute > 0)
        {
            headers["x-ratelimit-limit-requests"] = limits.RequestsPerMinute.ToString(CultureInfo.InvariantCulture);
            headers["x-ratelimit-remaining-requests"] = SlidingWindow.Remaining(limits.RequestsPerMinute, counts.PreviousRequests, counts.CurrentRequests, position.PreviousWeight).ToString(CultureInfo.InvariantCulture);
            headers["x-ratelimit-reset-requests"] = SlidingWindow.FormatDuration(SlidingWindow.ResetAfter(counts.PreviousRequests, counts.CurrentRequests, position));
        }

        if (limits.TokensPerMinute > 0)
        {
            headers["x-ratelimit-limit-tokens"] = limits.TokensPerMinute.ToString(CultureInfo.InvariantCulture);
            headers["x-ratelimit-remaining-tokens"] = SlidingWindow.Remaining(limits.TokensPerMinute, counts.PreviousTokens, counts.CurrentTokens, position.PreviousWeight).ToString(CultureInfo.InvariantCulture);
            headers["x-ratelimit-reset-tokens"] = SlidingWindow.FormatDuration(SlidingWindow.ResetAfter(counts.PreviousTokens, counts.CurrentTokens, position));
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Key {KeyId}… over its {Limit} per minute; retry after {RetryAfter} s.")]
    private static partial void LogRateLimited(ILogger logger, string keyId, string limit, int retryAfter);
}
