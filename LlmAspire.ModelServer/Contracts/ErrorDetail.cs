using System.Text.Json.Serialization;

namespace LlmAspire.ModelServer.Contracts;

/// <summary>One error; <c>param</c> names the offending request field, <c>code</c> is a stable machine-readable reason.</summary>
internal sealed record ErrorDetail(
    [property: JsonPropertyName("message")] string Message,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("param")] string? Param,
    [property: JsonPropertyName("code")] string? Code);
