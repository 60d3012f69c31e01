using System.Text.Json.Serialization;

namespace LlmAspire.ModelServer.Contracts;

/// <summary>Token counts; the prompt count includes the BOS token the model sees.</summary>
internal sealed record CompletionUsage(
    [property: JsonPropertyName("prompt_tokens")] int PromptTokens,
    [property: JsonPropertyName("completion_tokens")] int CompletionTokens)
{
    [JsonPropertyName("total_tokens")]
    public int TotalTokens => PromptTokens + CompletionTokens;
}
