using System.Text.Json.Serialization;

namespace LlmAspire.OpenAIApi.Responses;

/// <summary><c>usage.output_tokens_details</c>: always 0 reasoning tokens (the served models do not reason apart).</summary>
public sealed record ResponseOutputTokensDetails(
    [property: JsonPropertyName("reasoning_tokens")] int ReasoningTokens);
