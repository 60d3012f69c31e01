using System.Runtime.InteropServices;
using LlmAspire.OpenAIApi.Errors;
using LlmAspire.OpenAIApi.Requests;

namespace LlmAspire.Gateway.Requests;

/// <summary>
/// Reads the body of POST <c>/v1/completions</c>, <c>/v1/chat/completions</c> and <c>/v1/responses</c> once, checks it as the model server
/// does — 415 when it is not JSON, 413 beyond <see cref="MaxBodyBytes"/>, 400 when it fails
/// <see cref="OpenAIJsonBody.Validate"/> (not UTF-8, lone surrogates, too deep, not one JSON object) — answering
/// those itself, before anything reads a field; parses what routing, caching and limits need into a
/// <see cref="CompletionRequestInfo"/> feature, and hands the proxy the bytes as received, replayable for a retry.
/// </summary>
public sealed class CompletionRequestMiddleware(RequestDelegate next)
{
    /// <summary>Largest body the gateway reads; larger ones get 413 here (the model servers' own limit may be lower).</summary>
    public const int MaxBodyBytes = 4 * 1024 * 1024;

    /// <summary>Runs the middleware.</summary>
    public async Task InvokeAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        HttpRequest request = context.Request;
        if (!HttpMethods.IsPost(request.Method) || CompletionPath(request.Path) is not { } path)
        {
            await next(context);
            return;
        }

        var read = await OpenAIRequestReader.ReadBodyAsync(request, MaxBodyBytes, context.RequestAborted);
        if (read.Error is not null)
        {
            await OpenAIErrorResults.WriteAsync(context, read.StatusCode, read.Error);
            return;
        }

        if (OpenAIJsonBody.Validate(read.Body.Span) is { } invalid)
        {
            await OpenAIErrorResults.WriteAsync(context, StatusCodes.Status400BadRequest, invalid);
            return;
        }

        // The proxy forwards these bytes unchanged; a seekable stream lets a retry on another server replay them.
        request.Body = MemoryMarshal.TryGetArray(read.Body, out var segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(read.Body.ToArray(), writable: false);
        context.Features.Set(CompletionRequestInfo.Parse(path, read.Body));
        await next(context);
    }

    /// <summary>
    /// <c>/v1/completions</c>, <c>/v1/chat/completions</c> or <c>/v1/responses</c> when <paramref name="path"/> is one of them as routing
    /// matches it (any case, a trailing slash); else null.
    /// </summary>
    internal static string? CompletionPath(PathString path)
    {
        var value = path.Value is { Length: > 1 } text && text[^1] == '/' ? text[..^1] : path.Value;
        return value switch
        {
            _ when string.Equals(value, CompletionRequestInfo.CompletionsPath, StringComparison.OrdinalIgnoreCase) => CompletionRequestInfo.CompletionsPath,
            _ when string.Equals(value, CompletionRequestInfo.ChatCompletionsPath, StringComparison.OrdinalIgnoreCase) => CompletionRequestInfo.ChatCompletionsPath,
            _ when string.Equals(value, CompletionRequestInfo.ResponsesPath, StringComparison.OrdinalIgnoreCase) => CompletionRequestInfo.ResponsesPath,
            _ => null,
        };
    }
}

/// <summary>Access to the parsed request.</summary>
public static class CompletionRequestExtensions
{
    /// <summary>The parsed completion request of this call, when it is one.</summary>
    public static CompletionRequestInfo? GetCompletionRequest(this HttpContext context) =>
        context?.Features.Get<CompletionRequestInfo>();

    /// <summary>Adds the middleware that checks and parses completion requests.</summary>
    public static IApplicationBuilder UseCompletionRequests(this IApplicationBuilder app) =>
        app.UseMiddleware<CompletionRequestMiddleware>();
}
