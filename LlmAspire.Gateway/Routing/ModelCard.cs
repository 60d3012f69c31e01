using System.Text.Json.Serialization;

namespace LlmAspire.Gateway.Routing;

/// <summary>One OpenAI <c>model</c> object.</summary>
internal sealed record ModelCard(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("created"), JsonPropertyOrder(2)] long Created,
    [property: JsonPropertyName("owned_by"), JsonPropertyOrder(3)] string OwnedBy)
{
    [JsonPropertyName("object")]
    [JsonPropertyOrder(1)]
    public string Object => "model";
}
