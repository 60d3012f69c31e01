namespace LlmAspire.Gateway.Requests;

/// <summary>
/// Reads the body of POST <c>/v1/completions</c> and <c>/v1/chat/completions</c> once (bounded), parses what
/// routing, caching and limits need into a <see cref="CompletionRequestInfo"/> feature, and rewinds it so the
/// proxy forwards the bytes unchanged.
/// </summary>
public sealed class CompletionRequestMiddleware(RequestDelegate next)
{
    /// <summary>Largest body the gateway reads; larger ones get 413 from the model server's own limit or here.</summary>
    public const int MaxBodyBytes = 4 * 1024 * 1024;

    private static readonly string[] Paths = ["/v1/completions", "/v1/chat/completions"];

    /// <summary>Runs the middleware.</summary>
    public async Task InvokeAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        HttpRequest request = context.Request;
        if (HttpMethods.IsPost(request.Method) && Paths.Contains(request.Path.Value, StringComparer.Ordinal))
        {
            request.EnableBuffering(bufferThreshold: 64 * 1024, bufferLimit: MaxBodyBytes);
            using var copy = new MemoryStream();
            try
            {
                await request.Body.CopyToAsync(copy, context.RequestAborted);
            }
            catch (IOException)
            {
                // Over the buffer limit: let the model server answer with its own error.
                copy.SetLength(0);
            }

            request.Body.Position = 0;
            if (copy.Length > 0 && CompletionRequestInfo.TryParse(request.Path.Value!, copy.ToArray()) is { } info)
            {
                context.Features.Set(info);
            }
        }

        await next(context);
    }
}

/// <summary>Access to the parsed request.</summary>
public static class CompletionRequestExtensions
{
    /// <summary>The parsed completion request of this call, when it is one.</summary>
    public static CompletionRequestInfo? GetCompletionRequest(this HttpContext context) =>
        context?.Features.Get<CompletionRequestInfo>();

    /// <summary>Adds the middleware that parses completion requests.</summary>
    public static IApplicationBuilder UseCompletionRequests(this IApplicationBuilder app) =>
        app.UseMiddleware<CompletionRequestMiddleware>();
}
