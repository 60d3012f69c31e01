using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace LlmAspire.OpenAIApi.Errors;

/// <summary>The one writer of <see cref="OpenAIErrorResponse"/>: as an endpoint result, straight to a response, or as an SSE event.</summary>
public static class OpenAIErrorResults
{
    /// <summary>The error as an endpoint result with <paramref name="statusCode"/>.</summary>
    public static JsonHttpResult<OpenAIErrorResponse> Create(int statusCode, OpenAIError error) =>
        TypedResults.Json(new OpenAIErrorResponse(error), OpenAIJsonContext.Wire.OpenAIErrorResponse, contentType: "application/json", statusCode: statusCode);

    /// <summary>400 <see cref="OpenAIError.InvalidRequestError"/>.</summary>
    public static JsonHttpResult<OpenAIErrorResponse> BadRequest(string message, string? param, string? code) =>
        Create(StatusCodes.Status400BadRequest, OpenAIError.Invalid(message, param, code));

    /// <summary>503 <see cref="OpenAIError.ServerError"/> with <c>Retry-After</c>.</summary>
    public static JsonHttpResult<OpenAIErrorResponse> Unavailable(HttpResponse response, string message, string code, int retryAfterSeconds)
    {
        ArgumentNullException.ThrowIfNull(response);
        response.Headers.RetryAfter = retryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        return Create(StatusCodes.Status503ServiceUnavailable, new OpenAIError(message, OpenAIError.ServerError, null, code));
    }

    /// <summary>Writes the error as the whole response (for middleware that answers before any endpoint runs).</summary>
    public static Task WriteAsync(HttpContext context, int statusCode, OpenAIError error)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Response.StatusCode = statusCode;
        return context.Response.WriteAsJsonAsync(
            new OpenAIErrorResponse(error), OpenAIJsonContext.Wire.OpenAIErrorResponse, contentType: "application/json", context.RequestAborted);
    }

    /// <summary>The error as JSON: the payload of the error event that ends a stream which has already begun.</summary>
    public static string ToJson(OpenAIError error) =>
        JsonSerializer.Serialize(new OpenAIErrorResponse(error), OpenAIJsonContext.Wire.OpenAIErrorResponse);
}
