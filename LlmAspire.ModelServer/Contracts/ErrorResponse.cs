using System.Text.Json.Serialization;

namespace LlmAspire.ModelServer.Contracts;

/// <summary>The OpenAI error envelope: <c>{"error":{"message","type","param","code"}}</c>.</summary>
internal sealed record ErrorResponse(
    [property: JsonPropertyName("error")] ErrorDetail Error);
