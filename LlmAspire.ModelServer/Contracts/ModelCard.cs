using System.Text.Json.Serialization;

namespace LlmAspire.ModelServer.Contracts;

/// <summary>One <c>model</c> object.</summary>
internal sealed record ModelCard(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("created"), JsonPropertyOrder(2)] long Created)
{
    [JsonPropertyName("object")]
    [JsonPropertyOrder(1)]
    public string Object => "model";

    [JsonPropertyName("owned_by")]
    [JsonPropertyOrder(3)]
    public string OwnedBy => "llmaspire";
}
