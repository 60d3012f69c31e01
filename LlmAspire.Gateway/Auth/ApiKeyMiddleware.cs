using LlmAspire.OpenAIApi.Errors;

namespace LlmAspire.Gateway.Auth;

/// <summary>
/// Requires an accepted API key on every <c>/v1/*</c> request (health and other endpoints stay open) and sets the
/// caller's <see cref="ApiKeyIdentity"/>. Missing or wrong: 401 in OpenAI's error shape. Keys are never logged:
/// at most the first 8 hex digits of their hash, at Debug.
/// </summary>
public sealed partial class ApiKeyMiddleware(RequestDelegate next, ApiKeyValidator validator, AuthMetrics metrics, ILogger<ApiKeyMiddleware> logger)
{
    /// <summary>The path prefix that needs a key.</summary>
    public static readonly PathString ProtectedPath = "/v1";

    /// <summary>Runs the middleware.</summary>
    public Task InvokeAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (validator.IsOpen || !context.Request.Path.StartsWithSegments(ProtectedPath))
        {
            context.Features.Set(ApiKeyIdentity.Anonymous);
            return next(context);
        }

        var key = ApiKeyValidator.ReadPresentedKey(context.Request);
        if (key is null)
        {
            metrics.AuthFailure("missing");
            LogMissingKey(logger, context.Request.Path);
            return RejectAsync(
                context,
                "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth "
                + "(i.e. Authorization: Bearer YOUR_KEY), or as the api-key header.",
                code: null);
        }

        if (!validator.TryValidate(key, out var identity))
        {
            metrics.AuthFailure("invalid");
            LogInvalidKey(logger, context.Request.Path, ApiKeyHasher.Hash(key)[..8]);
            return RejectAsync(context, "Incorrect API key provided. Ask the gateway's operator for a valid key.", "invalid_api_key");
        }

        context.Features.Set(identity);
        return next(context);
    }

    private static Task RejectAsync(HttpContext context, string message, string? code)
    {
        context.Response.Headers.WWWAuthenticate = "Bearer";
        return OpenAIErrorResults.WriteAsync(context, StatusCodes.Status401Unauthorized, OpenAIError.Invalid(message, null, code));
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Refused {Path}: no API key.")]
    private static partial void LogMissingKey(ILogger logger, PathString path);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Refused {Path}: unknown API key (hash {HashPrefix}…).")]
    private static partial void LogInvalidKey(ILogger logger, PathString path, string hashPrefix);
}
