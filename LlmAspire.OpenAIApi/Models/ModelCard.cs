using System.Text.Json.Serialization;

namespace LlmAspire.OpenAIApi.Models;

/// <summary>
/// One <c>model</c> object; <c>max_model_len</c> (as vLLM writes it) is the context a request's prompt and completion
/// share, written when known (a model server knows it; the gateway passes on what the servers list).
/// </summary>
public sealed record ModelCard(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("created"), JsonPropertyOrder(2)] long Created,
    [property: JsonPropertyName("owned_by"), JsonPropertyOrder(3)] string OwnedBy,
    [property: JsonPropertyName("max_model_len"), JsonPropertyOrder(4), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? MaxModelLength = null)
{
    /// <summary>The owner a model server names for the model it serves.</summary>
    public const string ServerOwner = "llmaspire";

    [JsonPropertyName("object")]
    [JsonPropertyOrder(1)]
    public string Object => "model";
}
