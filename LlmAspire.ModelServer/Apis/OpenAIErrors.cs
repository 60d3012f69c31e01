using System.Globalization;
using LlmAspire.ModelServer.Hosting;
using LlmAspire.OpenAIApi.Errors;
using Microsoft.AspNetCore.Http.HttpResults;

namespace LlmAspire.ModelServer.Apis;

/// <summary>
/// The model server's wording of its errors; the shape and its writer are <see cref="OpenAIErrorResults"/>'s, shared
/// with the gateway.
/// </summary>
internal static class OpenAIErrors
{
    /// <summary>Seconds a client should wait before retrying while the model loads.</summary>
    public const int LoadingRetryAfterSeconds = 5;

    /// <summary>The code of the 503 a stopping server answers new requests with.</summary>
    public const string ShuttingDownCode = "shutting_down";

    /// <summary>Seconds a client should wait before retrying when the queue is full.</summary>
    public const int QueueFullRetryAfterSeconds = 1;

    public static JsonHttpResult<OpenAIErrorResponse> Create(int statusCode, OpenAIError error) => OpenAIErrorResults.Create(statusCode, error);

    public static JsonHttpResult<OpenAIErrorResponse> BadRequest(string message, string? param, string? code) =>
        OpenAIErrorResults.BadRequest(message, param, code);

    public static JsonHttpResult<OpenAIErrorResponse> ModelNotFound(string model) =>
        Create(StatusCodes.Status404NotFound, OpenAIError.ModelNotFound(model));

    /// <summary>503 with <c>Retry-After</c>: the model is loading, failed to load, or the server is stopping.</summary>
    public static JsonHttpResult<OpenAIErrorResponse> ModelUnavailable(ModelHost host, HttpResponse response) => host.Status switch
    {
        ModelStatus.Loading => Unavailable(response, "The model is still loading; retry shortly.", "model_loading", LoadingRetryAfterSeconds),
        ModelStatus.Failed => Create(StatusCodes.Status503ServiceUnavailable, new OpenAIError(host.FailureReason ?? "The model failed to load.", OpenAIError.ServerError, null, "model_load_failed")),
        _ => ShuttingDown(response),
    };

    /// <summary>
    /// 503 with <c>Retry-After</c>: the server stops and takes no new requests. It also closes the connection
    /// (<c>Connection: close</c>), so a client or gateway holding it in its pool opens its next one elsewhere.
    /// </summary>
    public static JsonHttpResult<OpenAIErrorResponse> ShuttingDown(HttpResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        if (HttpProtocol.IsHttp11(response.HttpContext.Request.Protocol) || HttpProtocol.IsHttp10(response.HttpContext.Request.Protocol))
        {
            // HTTP/2 and later have no such header: their connections end with GOAWAY when Kestrel stops.
            response.Headers.Connection = "close";
        }

        return Unavailable(response, "The server is shutting down.", ShuttingDownCode, LoadingRetryAfterSeconds);
    }

    /// <summary>503 with <c>Retry-After</c>: every KV row is taken and the engine's waiting queue is full.</summary>
    public static JsonHttpResult<OpenAIErrorResponse> QueueFull(HttpResponse response, int waiting) =>
        Unavailable(response, $"The server is busy: {waiting} requests are already waiting. Retry shortly.", "queue_full", QueueFullRetryAfterSeconds);

    /// <summary>400 <c>context_length_exceeded</c>, naming <c>prompt</c> or the completion budget's parameter.</summary>
    public static JsonHttpResult<OpenAIErrorResponse> ContextLengthExceeded(string message, string? param) =>
        BadRequest(message, param, "context_length_exceeded");

    /// <summary>400 <c>{kind}_below_min_value</c>, e.g. <c>integer_below_min_value</c>.</summary>
    public static JsonHttpResult<OpenAIErrorResponse> BelowMinimum(string param, string kind, string expected, double value) =>
        OutOfRange(param, $"{kind} below minimum value", $"{kind}_below_min_value", expected, value);

    /// <summary>400 <c>{kind}_above_max_value</c>, e.g. <c>decimal_above_max_value</c>.</summary>
    public static JsonHttpResult<OpenAIErrorResponse> AboveMaximum(string param, string kind, string expected, double value) =>
        OutOfRange(param, $"{kind} above maximum value", $"{kind}_above_max_value", expected, value);

    public static JsonHttpResult<OpenAIErrorResponse> Unavailable(HttpResponse response, string message, string code, int retryAfterSeconds) =>
        OpenAIErrorResults.Unavailable(response, message, code, retryAfterSeconds);

    private static JsonHttpResult<OpenAIErrorResponse> OutOfRange(string param, string what, string code, string expected, double value) =>
        BadRequest(
            string.Create(CultureInfo.InvariantCulture, $"Invalid '{param}': {what}. Expected a value {expected}, but got {value} instead."),
            param,
            code);
}
