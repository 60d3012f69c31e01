using System.Text.Json;
using LlmAspire.OpenAIApi.Responses;

namespace LlmAspire.ModelServer.Apis;

/// <summary>
/// The request's parameters as OpenAI's response object repeats them (with OpenAI's defaults where the request left
/// them out): it makes every response object, in progress or finished, streamed or not.
/// </summary>
internal sealed record ResponseEcho(
    string? Instructions,
    JsonElement Tools,
    JsonElement ToolChoice,
    bool ParallelToolCalls,
    double Temperature,
    double TopP,
    int? MaxOutputTokens,
    JsonElement TextFormat,
    bool Store,
    JsonElement Metadata,
    string? User)
{
    private static readonly JsonElement s_emptyArray = Parse("[]");
    private static readonly JsonElement s_emptyObject = Parse("{}");
    private static readonly JsonElement s_auto = Parse("\"auto\"");
    private static readonly JsonElement s_text = Parse("""{"type":"text"}""");

    /// <summary>The echo of <paramref name="request"/>: its own values (not the sampler's float roundings), else OpenAI's defaults.</summary>
    public static ResponseEcho From(ResponsesRequest request) => new(
        request.Instructions is { ValueKind: JsonValueKind.String } instructions ? instructions.GetString() : null,
        request.Tools is { ValueKind: JsonValueKind.Array } tools ? tools : s_emptyArray,
        request.ToolChoice is { ValueKind: JsonValueKind.String or JsonValueKind.Object } choice ? choice : s_auto,
        request.ParallelToolCalls ?? true,
        request.Temperature ?? 1,
        request.TopP ?? 1,
        request.MaxOutputTokens,
        ResponsesRequestReader.TextFormat(request) ?? s_text,
        request.Store ?? true,
        request.Metadata is { ValueKind: JsonValueKind.Object } metadata ? metadata : s_emptyObject,
        request.User);

    /// <summary>A response object with this echo.</summary>
    public ResponseObject Response(GenerationRun run, string status, IReadOnlyList<ResponseOutputItem> output, ResponseUsage? usage) => new(
        run.Id,
        run.Created,
        status,
        status == ResponseStatus.Incomplete ? new ResponseIncompleteDetails("max_output_tokens") : null,
        run.Model.Id,
        output,
        usage,
        Instructions,
        Tools,
        ToolChoice,
        ParallelToolCalls,
        Temperature,
        TopP,
        MaxOutputTokens,
        new ResponseTextConfig(TextFormat),
        Store,
        Metadata,
        User);

    private static JsonElement Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }
}
