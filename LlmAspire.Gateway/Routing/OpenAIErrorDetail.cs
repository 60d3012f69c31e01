using System.Text.Json.Serialization;

namespace LlmAspire.Gateway.Routing;

/// <summary>One error in OpenAI's shape; <c>code</c> is a stable machine-readable reason.</summary>
internal sealed record OpenAIErrorDetail(
    [property: JsonPropertyName("message")] string Message,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("param")] string? Param,
    [property: JsonPropertyName("code")] string? Code)
{
    public const string InvalidRequestError = "invalid_request_error";

    /// <summary>404 <c>model_not_found</c>.</summary>
    public static OpenAIErrorDetail ModelNotFound(string model) =>
        new($"The model '{model}' does not exist.", InvalidRequestError, "model", "model_not_found");
}
