using System.Globalization;
using LlmAspire.Gateway.Auth;
using LlmAspire.Gateway.Requests;
using LlmAspire.Gateway.Telemetry;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Options;

namespace LlmAspire.Gateway.Caching;

/// <summary>
/// Answers deterministic completion requests (temperature 0, or a seed) from HybridCache when it can, and stores
/// the model servers' 200 answers. <c>X-Cache</c> says HIT, MISS or BYPASS.
/// <list type="bullet">
/// <item>Non-streamed: <c>GetOrCreateAsync</c>, so identical concurrent requests reach a model server once; the one
/// request whose factory runs forwards (in its own request context, so tracing and aborts work as usual) and
/// hands the captured answer to the others. Only 200s are stored; the others get the same non-200 answer.</item>
/// <item>Streamed: a miss streams live to its client while being recorded (no waiting for the whole generation);
/// identical requests that arrive meanwhile on this gateway follow the same recording; a complete stream (through
/// <c>data: [DONE]</c>) is stored and replayed byte for byte, the same events in the same shapes.</item>
/// <item><c>Cache-Control: no-cache</c> skips the lookup but stores; <c>no-store</c> looks up but does not store.</item>
/// </list>
/// Sampling requests pass straight through. L2 trouble never fails a request (see <see cref="ResilientDistributedCache"/>).
/// <c>POST /v1/responses</c> is never cached, deterministic or not: each answer has its own response id, which the
/// gateway stores per API key for <c>previous_response_id</c> (see <c>Responses/</c>), so a replayed answer would hand
/// one caller another's id, or the same id for two conversations.
/// </summary>
public sealed partial class ResponseCacheMiddleware
{
    /// <summary>The response header that tells what the cache did.</summary>
    public const string HeaderName = "X-Cache";

    private static readonly HybridCacheEntryOptions s_lookupOnly = new() { Flags = HybridCacheEntryFlags.DisableUnderlyingData };

    private readonly RequestDelegate _next;
    private readonly HybridCache _cache;
    private readonly LiveStreamRegistry _liveStreams = new();
    private readonly CacheOptions _options;
    private readonly HybridCacheEntryOptions _entryOptions;
    private readonly CacheMetrics _metrics;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger<ResponseCacheMiddleware> _logger;

    /// <summary>Creates the middleware.</summary>
    public ResponseCacheMiddleware(
        RequestDelegate next,
        HybridCache cache,
        IOptions<CacheOptions> options,
        CacheMetrics metrics,
        TimeProvider timeProvider,
        ILogger<ResponseCacheMiddleware> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _next = next;
        _cache = cache;
        _options = options.Value;
        _entryOptions = new HybridCacheEntryOptions { Expiration = _options.Ttl, LocalCacheExpiration = _options.EffectiveLocalTtl };
        _metrics = metrics;
        _timeProvider = timeProvider;
        _logger = logger;
    }

    private enum Outcome
    {
        Hit,
        Miss,
        Bypass,
    }

    /// <summary>Runs the middleware.</summary>
    public async Task InvokeAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var request = context.GetCompletionRequest();
        if (!_options.Enabled || request is null)
        {
            await _next(context);
            return;
        }

        var directives = CacheControlDirectives.Parse(context.Request.Headers.CacheControl, context.Request.Headers.Pragma);
        if (!request.IsDeterministic || (directives.NoCache && directives.NoStore) || request.Path == CompletionRequestInfo.ResponsesPath)
        {
            Mark(context, Outcome.Bypass, request.Stream);
            await _next(context);
            return;
        }

        var key = ResponseCacheKey.Create(request, context.GetApiKeyIdentity().Id, _options.Revision);
        if (request.Stream)
        {
            await StreamAsync(context, key, directives);
        }
        else
        {
            await JsonAsync(context, key, directives);
        }
    }

    private async Task JsonAsync(HttpContext context, string key, CacheControlDirectives directives)
    {
        var aborted = context.RequestAborted;
        if (directives.NoCache)
        {
            Mark(context, Outcome.Bypass, stream: false);
            var fresh = await ForwardCapturingAsync(context);
            if (fresh is not null)
            {
                await StoreAsync(key, fresh);
                await WriteBodyAsync(context, fresh.Body);
            }

            return;
        }

        if (directives.NoStore)
        {
            if (await LookupAsync(key, aborted) is { } stored)
            {
                await WriteHitAsync(context, stored);
                return;
            }

            Mark(context, Outcome.Miss, stream: false);
            await _next(context);
            return;
        }

        // Stampede protection: whoever's factory HybridCache runs forwards; everyone else awaits its answer.
        var leader = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var produced = new TaskCompletionSource<CachedResponse>(TaskCreationOptions.RunContinuationsAsynchronously);
        var pending = _cache.GetOrCreateAsync(
            key,
            (leader, produced),
            static (state, _) =>
            {
                state.leader.TrySetResult();
                return new ValueTask<CachedResponse>(state.produced.Task);
            },
            _entryOptions,
            tags: null,
            CancellationToken.None);
        if (pending.IsCompletedSuccessfully)
        {
            await WriteHitAsync(context, pending.Result);
            return;
        }

        var lookup = pending.AsTask();
        if (await Task.WhenAny(lookup, leader.Task).WaitAsync(aborted) == leader.Task)
        {
            await LeadAsync(context, produced, lookup);
            return;
        }

        CachedResponse response;
        try
        {
            response = await lookup.WaitAsync(aborted);
        }
        catch (UncacheableResponseException uncacheable) when (!aborted.IsCancellationRequested)
        {
            // The request that went upstream got no storable answer: share a non-200 answer, else go upstream too.
            Mark(context, Outcome.Miss, stream: false);
            if (uncacheable.Response is { } shared)
            {
                await WriteResponseAsync(context, shared);
            }
            else
            {
                await _next(context);
            }

            return;
        }

        await WriteHitAsync(context, response);
    }

    private async Task LeadAsync(HttpContext context, TaskCompletionSource<CachedResponse> produced, Task<CachedResponse> lookup)
    {
        // HybridCache's task faults when the answer is not stored; nobody else may be awaiting it.
        _ = lookup.ContinueWith(static task => _ = task.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        Mark(context, Outcome.Miss, stream: false);
        CachedResponse? fresh;
        try
        {
            fresh = await ForwardCapturingAsync(context);
        }
        catch (Exception exception)
        {
            produced.TrySetException(new UncacheableResponseException(null, exception));
            throw;
        }

        if (fresh is null)
        {
            produced.TrySetException(new UncacheableResponseException(null));
            return;
        }

        if (IsStorable(fresh))
        {
            produced.TrySetResult(fresh);
        }
        else
        {
            produced.TrySetException(new UncacheableResponseException(fresh));
        }

        await WriteBodyAsync(context, fresh.Body);
    }

    private async Task StreamAsync(HttpContext context, string key, CacheControlDirectives directives)
    {
        var aborted = context.RequestAborted;
        if (directives.NoCache)
        {
            Mark(context, Outcome.Bypass, stream: true);
            await ForwardRecordingAsync(context, key, new LiveStream(), registered: false);
            return;
        }

        if (await LookupAsync(key, aborted) is { } stored)
        {
            await WriteHitAsync(context, stored);
            return;
        }

        if (directives.NoStore)
        {
            Mark(context, Outcome.Miss, stream: true);
            await _next(context);
            return;
        }

        if (_liveStreams.TryBegin(key, out var live))
        {
            // The lookup above and this registration are two steps: an identical stream may have been stored and
            // taken off the list between them. Its recorder stores before it leaves the list, so look once more.
            if (await LookupAsync(key, aborted) is { } storedMeanwhile)
            {
                live.Complete(cutShort: true);
                _liveStreams.End(key, live);
                await WriteHitAsync(context, storedMeanwhile);
                return;
            }

            Mark(context, Outcome.Miss, stream: true);
            await ForwardRecordingAsync(context, key, live, registered: true);
            return;
        }

        if (live.Length <= _options.MaxEntryBytes && await TryFollowAsync(context, live))
        {
            return;
        }

        // The followed stream never started well (or was the short-lived registration above): it may be stored now.
        if (await LookupAsync(key, aborted) is { } storedSince)
        {
            await WriteHitAsync(context, storedSince);
            return;
        }

        Mark(context, Outcome.Miss, stream: true);
        await _next(context);
    }

    /// <summary>
    /// Streams the response live to this client while recording it; stores it when it completed with [DONE]. The
    /// recording stays listed until it is stored, so an identical request finds either the recording or the entry.
    /// </summary>
    private async Task ForwardRecordingAsync(HttpContext context, string key, LiveStream live, bool registered)
    {
        try
        {
            var original = context.Features.Get<IHttpResponseBodyFeature>()!;
            var recorder = new RecordingStream(original.Stream, live, () => live.Start(context.Response.StatusCode, context.Response.ContentType));
            context.Features.Set<IHttpResponseBodyFeature>(new StreamResponseBodyFeature(recorder, original));
            var completed = false;
            try
            {
                await _next(context);
                completed = !context.RequestAborted.IsCancellationRequested;
            }
            finally
            {
                context.Features.Set(original);
                live.Complete(cutShort: !completed);
            }

            if (completed && context.Response.StatusCode == StatusCodes.Status200OK && live.Length <= _options.MaxEntryBytes)
            {
                var events = live.ToArray();
                var response = new CachedResponse(StatusCodes.Status200OK, context.Response.ContentType, events, _timeProvider.GetUtcNow());
                if (response.IsEventStream && CachedResponse.EndsWithDone(events))
                {
                    await StoreAsync(key, response);
                }
            }
        }
        finally
        {
            if (registered)
            {
                _liveStreams.End(key, live);
            }
        }
    }

    /// <summary>Follows a stream another request is forwarding right now; false (nothing written) when it did not start with 200.</summary>
    private async Task<bool> TryFollowAsync(HttpContext context, LiveStream live)
    {
        var aborted = context.RequestAborted;
        var (statusCode, contentType) = await live.Started.WaitAsync(aborted);
        if (statusCode != StatusCodes.Status200OK)
        {
            return false;
        }

        Mark(context, Outcome.Hit, stream: true);
        var response = context.Response;
        response.StatusCode = statusCode;
        response.ContentType = contentType;
        response.Headers.CacheControl = "no-cache";
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        if (!await live.CopyToAsync(response.Body, aborted))
        {
            // The stream this one followed broke off: end this one as broken too rather than as complete.
            LogFollowedStreamCutShort(_logger);
            context.Abort();
        }

        return true;
    }

    /// <summary>Forwards with the body held back (see <see cref="CaptureStream"/>); null when it outgrew the limit and was sent as it came.</summary>
    private async Task<CachedResponse?> ForwardCapturingAsync(HttpContext context)
    {
        var original = context.Features.Get<IHttpResponseBodyFeature>()!;
        using var capture = new CaptureStream(original.Stream, _options.MaxEntryBytes);
        context.Features.Set<IHttpResponseBodyFeature>(new StreamResponseBodyFeature(capture, original));
        try
        {
            await _next(context);
        }
        finally
        {
            context.Features.Set(original);
        }

        return capture.Spilled
            ? null
            : new CachedResponse(context.Response.StatusCode, context.Response.ContentType, capture.Captured.ToArray(), _timeProvider.GetUtcNow());
    }

    private bool IsStorable(CachedResponse response) =>
        response.StatusCode == StatusCodes.Status200OK && response.Body.Length <= _options.MaxEntryBytes;

    private async Task<CachedResponse?> LookupAsync(string key, CancellationToken cancellationToken) =>
        await _cache.GetOrCreateAsync<CachedResponse?>(key, static _ => default, s_lookupOnly, tags: null, CancellationToken.None)
            .AsTask().WaitAsync(cancellationToken);

    private async Task StoreAsync(string key, CachedResponse response)
    {
        if (IsStorable(response))
        {
            await _cache.SetAsync(key, response, _entryOptions, tags: null, CancellationToken.None);
        }
    }

    private async Task WriteHitAsync(HttpContext context, CachedResponse stored)
    {
        Mark(context, Outcome.Hit, stored.IsEventStream);
        var age = _timeProvider.GetUtcNow() - stored.CreatedAt;
        context.Response.Headers.Age = ((long)Math.Max(0, age.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        if (stored.IsEventStream)
        {
            context.Response.Headers.CacheControl = "no-cache";
        }

        await WriteResponseAsync(context, stored);
    }

    private static async Task WriteResponseAsync(HttpContext context, CachedResponse stored)
    {
        var response = context.Response;
        response.StatusCode = stored.StatusCode;
        response.ContentType = stored.ContentType;
        await WriteBodyAsync(context, stored.Body);
    }

    private static async Task WriteBodyAsync(HttpContext context, ReadOnlyMemory<byte> body)
    {
        var response = context.Response;
        if (!response.HasStarted)
        {
            response.ContentLength = body.Length;
        }

        await response.Body.WriteAsync(body, context.RequestAborted);
    }

    private void Mark(HttpContext context, Outcome outcome, bool stream)
    {
        var text = outcome switch
        {
            Outcome.Hit => "HIT",
            Outcome.Miss => "MISS",
            _ => "BYPASS",
        };
        if (!context.Response.HasStarted)
        {
            context.Response.Headers[HeaderName] = text;
        }

        string result = text.ToLowerInvariant();
        _metrics.Record(result, stream);
        context.SetCacheResult(result);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "A streamed response that identical requests were following broke off; their connections are aborted.")]
    private static partial void LogFollowedStreamCutShort(ILogger logger);
}
