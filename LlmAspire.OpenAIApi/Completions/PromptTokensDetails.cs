using System.Text.Json.Serialization;

namespace LlmAspire.OpenAIApi.Completions;

/// <summary><c>usage.prompt_tokens_details</c>: prompt tokens whose KV was reused from the server's prefix cache.</summary>
public sealed record PromptTokensDetails(
    [property: JsonPropertyName("cached_tokens")] int CachedTokens);
