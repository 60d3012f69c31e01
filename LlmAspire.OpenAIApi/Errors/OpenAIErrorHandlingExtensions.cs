using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;

namespace LlmAspire.OpenAIApi.Errors;

/// <summary>
/// Makes every failure a service answers on its own — an unknown route (404), a wrong method (405), a body the server
/// refuses while reading it (400, 413), an unhandled exception (500) — an error in the OpenAI shape. Exception text
/// never reaches the client (it may hold request content); the exception itself is logged by ASP.NET Core.
/// </summary>
public static class OpenAIErrorHandlingExtensions
{
    /// <summary>Adds the exception handler and the status-code pages; call it first in the pipeline.</summary>
    public static IApplicationBuilder UseOpenAIErrors(this IApplicationBuilder app)
    {
        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            ExceptionHandler = WriteExceptionAsync,
            // A read that failed because the client sent a bad or oversized body is the client's error.
            StatusCodeSelector = exception => exception is BadHttpRequestException bad ? bad.StatusCode : StatusCodes.Status500InternalServerError,
        });
        return app.UseStatusCodePages(WriteStatusCodePageAsync);
    }

    private static Task WriteExceptionAsync(HttpContext context)
    {
        var exception = context.Features.Get<IExceptionHandlerFeature>()?.Error;
        var error = exception is BadHttpRequestException bad
            ? ForStatus(bad.StatusCode, context.Request)
            : new OpenAIError("The server failed to answer the request.", OpenAIError.ServerError, null, "internal_error");
        return OpenAIErrorResults.WriteAsync(context, context.Response.StatusCode, error);
    }

    private static Task WriteStatusCodePageAsync(StatusCodeContext context)
    {
        var http = context.HttpContext;
        return OpenAIErrorResults.WriteAsync(http, http.Response.StatusCode, ForStatus(http.Response.StatusCode, http.Request));
    }

    private static OpenAIError ForStatus(int status, HttpRequest request)
    {
        var target = $"{request.Method} {request.Path}";
        return status switch
        {
            StatusCodes.Status404NotFound => OpenAIError.Invalid($"Unknown request URL: {target}.", null, "unknown_url"),
            StatusCodes.Status405MethodNotAllowed => OpenAIError.Invalid($"Method not allowed: {target}.", null, "method_not_allowed"),
            StatusCodes.Status413PayloadTooLarge => OpenAIError.Invalid("The request body is larger than this server accepts.", null, "request_too_large"),
            StatusCodes.Status415UnsupportedMediaType => OpenAIError.UnsupportedMediaType(request.ContentType),
            StatusCodes.Status408RequestTimeout => OpenAIError.Invalid("The request body did not arrive in time.", null, "request_timeout"),
            // Endpoints word their own 400s; one that reaches here is the server failing to read the request itself.
            StatusCodes.Status400BadRequest => OpenAIError.Invalid(
                "The request could not be read: its body framing is malformed (e.g. a bad chunk) or it ended early.", null, "malformed_request"),
            < 500 => OpenAIError.Invalid($"The request failed with status {status}.", null, null),
            _ => new OpenAIError($"The server failed with status {status}.", OpenAIError.ServerError, null, null),
        };
    }
}
