using System.Text.Json.Serialization;

namespace LlmAspire.OpenAIApi.Completions;

/// <summary>
/// The legacy completions <c>logprobs</c> object: per generated token its text, log-probability, the most likely
/// alternatives (with the chosen token among them) and its character offset in the completion text.
/// </summary>
public sealed record CompletionLogprobs(
    [property: JsonPropertyName("tokens")] IReadOnlyList<string> Tokens,
    [property: JsonPropertyName("token_logprobs")] IReadOnlyList<float> TokenLogprobs,
    [property: JsonPropertyName("top_logprobs")] IReadOnlyList<IReadOnlyDictionary<string, float>> TopLogprobs,
    [property: JsonPropertyName("text_offset")] IReadOnlyList<int> TextOffset);
