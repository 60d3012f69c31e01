using System.Globalization;
using System.Text.Json;
using LlmAspire.ModelServer.Contracts;
using LlmAspire.ModelServer.Hosting;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.HttpResults;

namespace LlmAspire.ModelServer.Apis;

/// <summary>Every error the OpenAI surface answers, in the shape <c>{"error":{"message","type","param","code"}}</c>.</summary>
internal static class OpenAIErrors
{
    public const string InvalidRequestError = "invalid_request_error";
    public const string ServerError = "server_error";

    /// <summary>Seconds a client should wait before retrying while the model loads.</summary>
    public const int LoadingRetryAfterSeconds = 5;

    /// <summary>Seconds a client should wait before retrying when the queue is full.</summary>
    public const int QueueFullRetryAfterSeconds = 1;

    public static JsonHttpResult<ErrorResponse> Create(int statusCode, string message, string type, string? param, string? code) =>
        Create(statusCode, new ErrorDetail(message, type, param, code));

    public static JsonHttpResult<ErrorResponse> Create(int statusCode, ErrorDetail error) =>
        TypedResults.Json(new ErrorResponse(error), ModelServerJsonContext.Wire.ErrorResponse, contentType: "application/json", statusCode: statusCode);

    public static JsonHttpResult<ErrorResponse> BadRequest(string message, string? param, string? code) =>
        Create(StatusCodes.Status400BadRequest, message, InvalidRequestError, param, code);

    public static JsonHttpResult<ErrorResponse> ModelNotFound(string model) =>
        Create(StatusCodes.Status404NotFound, $"The model '{model}' does not exist.", InvalidRequestError, "model", "model_not_found");

    /// <summary>503 with <c>Retry-After</c>: the model is loading, failed to load, or the server is stopping.</summary>
    public static JsonHttpResult<ErrorResponse> ModelUnavailable(ModelHost host, HttpResponse response) => host.Status switch
    {
        ModelStatus.Loading => Unavailable(response, "The model is still loading; retry shortly.", "model_loading", LoadingRetryAfterSeconds),
        ModelStatus.Failed => Create(StatusCodes.Status503ServiceUnavailable, host.FailureReason ?? "The model failed to load.", ServerError, null, "model_load_failed"),
        _ => Unavailable(response, "The server is shutting down.", "shutting_down", LoadingRetryAfterSeconds),
    };

    /// <summary>503 with <c>Retry-After</c>: every KV row is taken and the engine's waiting queue is full.</summary>
    public static JsonHttpResult<ErrorResponse> QueueFull(HttpResponse response, int waiting) =>
        Unavailable(response, $"The server is busy: {waiting} requests are already waiting. Retry shortly.", "queue_full", QueueFullRetryAfterSeconds);

    /// <summary>400 <c>context_length_exceeded</c>, naming <c>prompt</c> or the completion budget's parameter.</summary>
    public static JsonHttpResult<ErrorResponse> ContextLengthExceeded(string message, string? param) =>
        BadRequest(message, param, "context_length_exceeded");

    /// <summary>400 <c>{kind}_below_min_value</c>, e.g. <c>integer_below_min_value</c>.</summary>
    public static JsonHttpResult<ErrorResponse> BelowMinimum(string param, string kind, string expected, double value) =>
        OutOfRange(param, $"{kind} below minimum value", $"{kind}_below_min_value", expected, value);

    /// <summary>400 <c>{kind}_above_max_value</c>, e.g. <c>decimal_above_max_value</c>.</summary>
    public static JsonHttpResult<ErrorResponse> AboveMaximum(string param, string kind, string expected, double value) =>
        OutOfRange(param, $"{kind} above maximum value", $"{kind}_above_max_value", expected, value);

    public static JsonHttpResult<ErrorResponse> Unavailable(HttpResponse response, string message, string code, int retryAfterSeconds)
    {
        response.Headers.RetryAfter = retryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        return Create(StatusCodes.Status503ServiceUnavailable, message, ServerError, null, code);
    }

    public static JsonHttpResult<ErrorResponse> UnsupportedMediaType(string? contentType) =>
        Create(StatusCodes.Status415UnsupportedMediaType, UnsupportedMediaTypeError(contentType));

    /// <summary>An error event for a stream that has already begun.</summary>
    public static string ToJson(ErrorDetail error) =>
        JsonSerializer.Serialize(new ErrorResponse(error), ModelServerJsonContext.Wire.ErrorResponse);

    /// <summary>Gives bodiless error statuses under <c>/v1</c> (unknown route 404, wrong method 405) the OpenAI error shape.</summary>
    public static IApplicationBuilder UseOpenAIErrorPages(this IApplicationBuilder app) =>
        app.UseStatusCodePages(WriteStatusCodePageAsync);

    private static JsonHttpResult<ErrorResponse> OutOfRange(string param, string what, string code, string expected, double value) =>
        BadRequest(
            string.Create(CultureInfo.InvariantCulture, $"Invalid '{param}': {what}. Expected a value {expected}, but got {value} instead."),
            param,
            code);

    private static ErrorDetail UnsupportedMediaTypeError(string? contentType) =>
        new($"Unsupported content type '{contentType}': send the request body as application/json.", InvalidRequestError, null, "unsupported_media_type");

    private static Task WriteStatusCodePageAsync(StatusCodeContext context)
    {
        var http = context.HttpContext;
        if (!http.Request.Path.StartsWithSegments("/v1"))
        {
            return Task.CompletedTask;
        }

        var status = http.Response.StatusCode;
        var request = $"{http.Request.Method} {http.Request.Path}";
        var error = status switch
        {
            StatusCodes.Status404NotFound => new ErrorDetail($"Unknown request URL: {request}.", InvalidRequestError, null, "unknown_url"),
            StatusCodes.Status405MethodNotAllowed => new ErrorDetail($"Method not allowed: {request}.", InvalidRequestError, null, "method_not_allowed"),
            StatusCodes.Status415UnsupportedMediaType => UnsupportedMediaTypeError(http.Request.ContentType),
            < 500 => new ErrorDetail($"The request failed with status {status}.", InvalidRequestError, null, null),
            _ => new ErrorDetail($"The server failed with status {status}.", ServerError, null, null),
        };
        return http.Response.WriteAsJsonAsync(new ErrorResponse(error), ModelServerJsonContext.Wire.ErrorResponse, contentType: "application/json", http.RequestAborted);
    }
}
