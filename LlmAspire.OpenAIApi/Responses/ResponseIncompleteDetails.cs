using System.Text.Json.Serialization;

namespace LlmAspire.OpenAIApi.Responses;

/// <summary>Why a response is <c>incomplete</c>: here always <c>max_output_tokens</c> (the budget or the context ran out).</summary>
public sealed record ResponseIncompleteDetails(
    [property: JsonPropertyName("reason")] string Reason);
