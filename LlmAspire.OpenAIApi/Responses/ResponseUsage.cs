using System.Text.Json.Serialization;

namespace LlmAspire.OpenAIApi.Responses;

/// <summary>A response's token counts in the Responses API's names; the input count includes the BOS token.</summary>
public sealed record ResponseUsage(
    [property: JsonPropertyName("input_tokens")] int InputTokens,
    [property: JsonPropertyName("input_tokens_details")] ResponseInputTokensDetails InputTokensDetails,
    [property: JsonPropertyName("output_tokens")] int OutputTokens,
    [property: JsonPropertyName("output_tokens_details")] ResponseOutputTokensDetails OutputTokensDetails)
{
    [JsonPropertyName("total_tokens")]
    public int TotalTokens => InputTokens + OutputTokens;
}
