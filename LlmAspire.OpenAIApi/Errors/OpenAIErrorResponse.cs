using System.Text.Json.Serialization;

namespace LlmAspire.OpenAIApi.Errors;

/// <summary>The OpenAI error envelope: <c>{"error":{"message","type","param","code"}}</c>.</summary>
public sealed record OpenAIErrorResponse([property: JsonPropertyName("error")] OpenAIError Error);
