using System.Text.Json.Serialization;

namespace LlmAspire.OpenAIApi.Completions;

/// <summary>Token counts; the prompt count includes the BOS token the model sees, and how much of it came from the prefix cache.</summary>
public sealed record CompletionUsage(
    [property: JsonPropertyName("prompt_tokens")] int PromptTokens,
    [property: JsonPropertyName("completion_tokens")] int CompletionTokens,
    [property: JsonPropertyName("prompt_tokens_details"), JsonPropertyOrder(1)] PromptTokensDetails PromptTokensDetails)
{
    [JsonPropertyName("total_tokens")]
    public int TotalTokens => PromptTokens + CompletionTokens;
}
