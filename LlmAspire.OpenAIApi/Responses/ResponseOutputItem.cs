using System.Text.Json.Serialization;

namespace LlmAspire.OpenAIApi.Responses;

/// <summary>One item of a response's <c>output</c>, written with its <c>type</c> first.</summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "type")]
[JsonDerivedType(typeof(ResponseMessageItem), "message")]
[JsonDerivedType(typeof(ResponseFunctionCallItem), "function_call")]
public abstract record ResponseOutputItem(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("status")] string Status);
