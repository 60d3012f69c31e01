using System.Text.Json;
using System.Text.Json.Serialization;

namespace LlmAspire.OpenAIApi.Completions;

/// <summary>
/// The body of <c>POST /v1/completions</c>: the shared fields of <see cref="SamplingRequest"/>, a prompt and the legacy
/// logprobs. Fields the model server does not implement (<c>user</c>, <c>suffix</c>, ...) are accepted and ignored,
/// as OpenAI-compatible servers do.
/// </summary>
public sealed record CompletionRequest : SamplingRequest
{
    /// <summary>A string, or an array holding exactly one string.</summary>
    [JsonPropertyName("prompt")]
    public JsonElement? Prompt { get; init; }

    /// <summary>The legacy integer: log-probabilities of the chosen token and this many alternatives (0-5).</summary>
    [JsonPropertyName("logprobs")]
    public int? Logprobs { get; init; }

    /// <summary>Echoing the prompt back is not implemented: true is refused rather than ignored.</summary>
    [JsonPropertyName("echo")]
    public bool? Echo { get; init; }
}
