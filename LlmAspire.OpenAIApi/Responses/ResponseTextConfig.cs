using System.Text.Json;
using System.Text.Json.Serialization;

namespace LlmAspire.OpenAIApi.Responses;

/// <summary>A response's <c>text</c>: the output format the request asked for (<c>{"type":"text"}</c> by default).</summary>
public sealed record ResponseTextConfig(
    [property: JsonPropertyName("format")] JsonElement Format);
