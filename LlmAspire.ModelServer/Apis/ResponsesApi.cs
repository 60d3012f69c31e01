using System.Text.Json.Serialization.Metadata;
using LlmAspire.Inference;
using LlmAspire.OpenAIApi;
using LlmAspire.OpenAIApi.Errors;
using LlmAspire.OpenAIApi.Responses;
using Microsoft.AspNetCore.Http.HttpResults;

namespace LlmAspire.ModelServer.Apis;

/// <summary>
/// <c>POST /v1/responses</c>, OpenAI's Responses API, served statelessly on top of chat: the request is translated
/// into the chat request it means (<see cref="ResponsesRequestReader"/>) and checked, rendered and parsed as chat is
/// (<see cref="ChatRequestValidator"/>, <see cref="ChatCompletionsApi"/>); the answer is a <c>response</c> object with
/// a message item (its text) and a <c>function_call</c> item per call, <c>incomplete</c> when the budget ran out, or
/// a stream of named events (<see cref="ResponsesStream"/>). Storing responses, and so <c>previous_response_id</c>, is
/// the gateway's. The road it takes is <see cref="GenerationPipeline"/>'s.
/// </summary>
internal sealed class ResponsesApi : IGenerationEndpoint<ResponsesRequest, ResponsesSettings>
{
    private static readonly ResponsesApi s_instance = new();
    private static readonly ChatCompletionsApi s_chat = new();

    public string Operation => ChatCompletionsApi.OperationName;

    public string IdPrefix => "resp_";

    public JsonTypeInfo<ResponsesRequest> RequestType => OpenAIJsonContext.Default.ResponsesRequest;

    /// <summary>Maps <c>POST /v1/responses</c>.</summary>
    public static IEndpointRouteBuilder Map(IEndpointRouteBuilder app)
    {
        app.MapGroup("/v1").WithTags("Responses")
            .MapGeneration<ResponsesRequest, ResponsesSettings, ResponseObject>("/responses", s_instance)
            .WithName("CreateResponse");
        return app;
    }

    public JsonHttpResult<OpenAIErrorResponse>? Validate(ResponsesRequest request, int maxSequences, out ResponsesSettings? settings)
    {
        settings = null;
        if (ResponsesRequestReader.TryRead(request, out var chat, out var map) is { } invalid)
        {
            return invalid;
        }

        if (!ChatRequestValidator.TryValidate(chat!, maxSequences, out var chatSettings, out var error))
        {
            return map!.Map(error);
        }

        settings = new ResponsesSettings(chatSettings with { MaxTokensParam = "max_output_tokens" }, ResponseEcho.From(request), map!);
        return null;
    }

    /// <summary>Chat's settings; a stream always ends with the usage (in <c>response.completed</c>); a constraint is named as the request names it.</summary>
    public SamplingSettings Sampling(ResponsesSettings settings)
    {
        var sampling = settings.Chat.Sampling with { IncludeUsage = settings.Chat.Sampling.Stream };
        return sampling.Constraint is { } constraint
            ? sampling with { Constraint = constraint with { Param = settings.Map.Map(constraint.Param) } }
            : sampling;
    }

    public JsonHttpResult<OpenAIErrorResponse>? Prepare(ResponsesSettings settings, LanguageModel model, out PreparedGeneration? generation)
    {
        if (s_chat.Prepare(settings.Chat, model, out generation) is { } unprepared)
        {
            return settings.Map.Map(unprepared);
        }

        generation = generation! with { State = settings.Echo };
        return null;
    }

    public IResult Respond(GenerationRun run, IReadOnlyList<ChoiceResult> choices)
    {
        var parsed = ChatCompletionsApi.ParseChoice(run, choices[0]);
        var status = ResponseStatus.Of(parsed.FinishReason);
        var output = new List<ResponseOutputItem>();
        if (parsed.Content is { } content)
        {
            output.Add(new ResponseMessageItem(ResponseStatus.NewId("msg_"), status, [new ResponseOutputText(content)]));
        }

        output.AddRange(parsed.ToolCalls.Select(call =>
            new ResponseFunctionCallItem(ResponseStatus.NewId("fc_"), ResponseStatus.Completed, call.Id, call.Name, call.Arguments)));
        return TypedResults.Ok(Echo(run).Response(run, status, output, ResponseStatus.Usage(run.Usage)));
    }

    public GenerationStreamShape Stream(GenerationRun run) => new ResponsesStream(run, Echo(run)).Shape();

    private static ResponseEcho Echo(GenerationRun run) =>
        run.State as ResponseEcho ?? throw new InvalidOperationException("A responses run carries its request's echo.");
}
