using System.Text.Json.Serialization;

namespace LlmAspire.OpenAIApi.Responses;

/// <summary><c>usage.input_tokens_details</c>: input tokens whose KV was reused from the prefix cache.</summary>
public sealed record ResponseInputTokensDetails(
    [property: JsonPropertyName("cached_tokens")] int CachedTokens);
