using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using LlmAspire.ModelServer.Contracts;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;

namespace LlmAspire.ModelServer.Apis;

/// <summary>Reads a JSON request body within the size limit, answering what is wrong with it in the OpenAI error shape.</summary>
internal static class OpenAIRequestReader
{
    public static async Task<(T? Request, JsonHttpResult<ErrorResponse>? Error)> ReadAsync<T>(
        HttpRequest request,
        JsonTypeInfo<T> typeInfo,
        long maxBodyBytes,
        CancellationToken cancellationToken)
        where T : class
    {
        if (!request.HasJsonContentType())
        {
            return (null, OpenAIErrors.UnsupportedMediaType(request.ContentType));
        }

        if (request.ContentLength > maxBodyBytes)
        {
            return (null, BodyTooLarge(maxBodyBytes));
        }

        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = maxBodyBytes;
        }

        try
        {
            var body = await JsonSerializer.DeserializeAsync(request.Body, typeInfo, cancellationToken);
            return body is null
                ? (null, OpenAIErrors.BadRequest("The request body must be a JSON object.", null, "invalid_json"))
                : (body, null);
        }
        catch (JsonException ex)
        {
            var param = ex.Path is { Length: > 2 } path && path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : null;
            var message = param is null
                ? "We could not parse the JSON body of your request: it is not a valid JSON object."
                : $"Invalid '{param}': the value is not valid JSON or has the wrong type.";
            return (null, OpenAIErrors.BadRequest(message, param, "invalid_json"));
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (null, BodyTooLarge(maxBodyBytes));
        }
    }

    private static JsonHttpResult<ErrorResponse> BodyTooLarge(long maxBodyBytes) =>
        OpenAIErrors.Create(
            StatusCodes.Status413PayloadTooLarge,
            $"The request body is larger than the {maxBodyBytes} bytes this server accepts.",
            OpenAIErrors.InvalidRequestError,
            null,
            "request_too_large");
}
