using System.Text.Json.Serialization;

namespace LlmAspire.Gateway.Routing;

/// <summary>Source-generated serialization of the wire records the gateway writes itself.</summary>
[JsonSerializable(typeof(ModelList))]
[JsonSerializable(typeof(ModelCard))]
[JsonSerializable(typeof(OpenAIErrorResponse))]
internal sealed partial class RoutingJsonContext : JsonSerializerContext;
