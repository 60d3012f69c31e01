using System.Text.Json.Serialization;

namespace LlmAspire.ModelServer.Contracts;

/// <summary>One <c>model</c> object; <c>max_model_len</c> (as vLLM writes it) is the context a request's prompt and completion share.</summary>
internal sealed record ModelCard(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("created"), JsonPropertyOrder(2)] long Created,
    [property: JsonPropertyName("max_model_len"), JsonPropertyOrder(4)] int MaxModelLength)
{
    [JsonPropertyName("object")]
    [JsonPropertyOrder(1)]
    public string Object => "model";

    [JsonPropertyName("owned_by")]
    [JsonPropertyOrder(3)]
    public string OwnedBy => "llmaspire";
}
