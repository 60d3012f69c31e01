using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using LlmAspire.OpenAIApi.Responses;

namespace LlmAspire.OpenAIApi;

/// <summary>Source-generated serialization for every wire type. Nulls are written: OpenAI clients expect <c>"logprobs": null</c>.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.General)]
[JsonSerializable(typeof(CompletionRequest))]
[JsonSerializable(typeof(CompletionResponse))]
[JsonSerializable(typeof(CompletionChunk))]
[JsonSerializable(typeof(ChatCompletionRequest))]
[JsonSerializable(typeof(ChatCompletionResponse))]
[JsonSerializable(typeof(ChatCompletionChunk))]
[JsonSerializable(typeof(ChatCompletionUsageChunk))]
[JsonSerializable(typeof(ModelList))]
[JsonSerializable(typeof(ModelCard))]
[JsonSerializable(typeof(OpenAIErrorResponse))]
[JsonSerializable(typeof(ResponsesRequest))]
[JsonSerializable(typeof(ResponseObject))]
[JsonSerializable(typeof(ResponseLifecycleEvent))]
[JsonSerializable(typeof(ResponseOutputItemEvent))]
[JsonSerializable(typeof(ResponseContentPartEvent))]
[JsonSerializable(typeof(ResponseTextDeltaEvent))]
[JsonSerializable(typeof(ResponseTextDoneEvent))]
[JsonSerializable(typeof(ResponseFunctionCallArgumentsDeltaEvent))]
[JsonSerializable(typeof(ResponseFunctionCallArgumentsDoneEvent))]
[JsonSerializable(typeof(ResponseErrorEvent))]
public sealed partial class OpenAIJsonContext : JsonSerializerContext
{
    /// <summary>
    /// The context for responses: text and quotes are written as they are (<c>'</c>, <c>&lt;</c>, non-ASCII),
    /// as OpenAI writes them; these bodies are JSON, never embedded in HTML.
    /// </summary>
    public static OpenAIJsonContext Wire { get; } = new(new JsonSerializerOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
}
