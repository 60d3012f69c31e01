using System.Text.Json.Serialization;

namespace LlmAspire.Gateway.Routing;

/// <summary><c>{"error":{"message","type","param","code"}}</c>.</summary>
internal sealed record OpenAIErrorResponse([property: JsonPropertyName("error")] OpenAIErrorDetail Error);
