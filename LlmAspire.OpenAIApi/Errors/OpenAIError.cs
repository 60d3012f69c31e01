using System.Text.Json.Serialization;

namespace LlmAspire.OpenAIApi.Errors;

/// <summary>
/// One error in OpenAI's shape; <c>param</c> names the offending request field, <c>code</c> is a stable
/// machine-readable reason. Both services write every error they answer through this record.
/// </summary>
public sealed record OpenAIError(
    [property: JsonPropertyName("message")] string Message,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("param")] string? Param,
    [property: JsonPropertyName("code")] string? Code)
{
    /// <summary>The request is wrong; retrying it unchanged fails again.</summary>
    public const string InvalidRequestError = "invalid_request_error";

    /// <summary>The server could not answer; retrying may succeed.</summary>
    public const string ServerError = "server_error";

    /// <summary>The caller's key is missing or not accepted.</summary>
    public const string AuthenticationError = "authentication_error";

    /// <summary>A 400 <see cref="InvalidRequestError"/>.</summary>
    public static OpenAIError Invalid(string message, string? param, string? code) => new(message, InvalidRequestError, param, code);

    /// <summary>404 <c>model_not_found</c>.</summary>
    public static OpenAIError ModelNotFound(string model) =>
        new($"The model '{model}' does not exist.", InvalidRequestError, "model", "model_not_found");

    /// <summary>An error for a request whose body was not valid JSON (or not UTF-8).</summary>
    public static OpenAIError InvalidJson(string? param) => param is null
        ? Invalid("We could not parse the JSON body of your request: it is not a valid JSON object.", null, "invalid_json")
        : Invalid($"Invalid '{param}': the value is not valid JSON or has the wrong type.", param, "invalid_json");

    /// <summary>415: the body is not sent as <c>application/json</c>.</summary>
    public static OpenAIError UnsupportedMediaType(string? contentType) =>
        Invalid($"Unsupported content type '{contentType}': send the request body as application/json.", null, "unsupported_media_type");

    /// <summary>413: the body is larger than the service accepts.</summary>
    public static OpenAIError RequestTooLarge(long maxBodyBytes) =>
        Invalid($"The request body is larger than the {maxBodyBytes} bytes this server accepts.", null, "request_too_large");
}
