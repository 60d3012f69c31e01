using System.Text.Json.Serialization;

namespace LlmAspire.ModelServer.Contracts;

/// <summary>One of the most likely tokens at a position.</summary>
internal sealed record ChatTopLogprob(
    [property: JsonPropertyName("token")] string Token,
    [property: JsonPropertyName("logprob")] float Logprob,
    [property: JsonPropertyName("bytes")] IReadOnlyList<int> Bytes);
