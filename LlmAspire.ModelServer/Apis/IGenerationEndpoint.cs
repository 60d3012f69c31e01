using System.Net.ServerSentEvents;
using System.Text.Json.Serialization.Metadata;
using LlmAspire.Inference;
using LlmAspire.Inference.Engine;
using LlmAspire.Inference.Tools;
using LlmAspire.OpenAIApi.Completions;
using LlmAspire.OpenAIApi.Errors;
using Microsoft.AspNetCore.Http.HttpResults;

namespace LlmAspire.ModelServer.Apis;

/// <summary>
/// What one OpenAI generation endpoint supplies to <see cref="GenerationPipeline"/>: its request type, the checks that
/// need no model, how a checked request becomes a generation for the served model, and its response shapes.
/// Reading, the shared checks, submission, collection, streaming, telemetry and errors are the pipeline's.
/// </summary>
/// <typeparam name="TRequest">The wire request.</typeparam>
/// <typeparam name="TSettings">The request after the checks that need no model, defaults applied.</typeparam>
internal interface IGenerationEndpoint<TRequest, TSettings>
    where TRequest : SamplingRequest
    where TSettings : class
{
    /// <summary>The GenAI operation name of the request's span and metrics, e.g. <c>chat</c>.</summary>
    string Operation { get; }

    /// <summary>The prefix of response ids, e.g. <c>chatcmpl-</c>.</summary>
    string IdPrefix { get; }

    /// <summary>How the body is read.</summary>
    JsonTypeInfo<TRequest> RequestType { get; }

    /// <summary>The checks that need no model; null when the request passed, with its settings.</summary>
    JsonHttpResult<OpenAIErrorResponse>? Validate(TRequest request, int maxSequences, out TSettings? settings);

    /// <summary>The shared sampling and stopping settings of checked settings.</summary>
    SamplingSettings Sampling(TSettings settings);

    /// <summary>
    /// The generation for <paramref name="model"/>: the prompt tokenized or the conversation rendered (no further than
    /// the context), the budget checked; null when it can run, else the error.
    /// </summary>
    JsonHttpResult<OpenAIErrorResponse>? Prepare(TSettings settings, LanguageModel model, out PreparedGeneration? generation);

    /// <summary>The non-streamed answer once every choice finished.</summary>
    IResult Respond(GenerationRun run, IReadOnlyList<ChoiceResult> choices);

    /// <summary>The streamed answer's chunks (state for one stream may live in the returned delegates).</summary>
    GenerationStreamShape Stream(GenerationRun run);
}

/// <summary>A generation ready to submit.</summary>
/// <param name="Request">The engine request.</param>
/// <param name="BudgetParam">The parameter the completion budget came from, named when the budget does not fit.</param>
internal sealed record PreparedGeneration(GenerationRequest Request, string BudgetParam)
{
    /// <summary>Makes the reader of one choice's output (content and function calls); null: all content.</summary>
    public Func<ChatOutputParser>? OutputParser { get; init; }

    /// <summary>
    /// What the endpoint keeps from its request for its answer, handed back as <see cref="GenerationRun.State"/>
    /// (the Responses API echoes its request's parameters in the response object); null for none.
    /// </summary>
    public object? State { get; init; }
}

/// <summary>
/// The SSE events of a streamed answer: before any update, per update, and the usage event. Chat and completions send
/// unnamed <c>data:</c> events ending with <c>[DONE]</c>; the Responses API names each event and sends no <c>[DONE]</c>.
/// </summary>
internal sealed record GenerationStreamShape(
    IEnumerable<SseItem<string>> Start,
    Func<GenerationUpdate, IEnumerable<SseItem<string>>> Chunks,
    Func<CompletionUsage, SseItem<string>> UsageChunk)
{
    /// <summary>Unnamed <c>data:</c> events, the way chat and completions stream.</summary>
    public GenerationStreamShape(IEnumerable<string> start, Func<GenerationUpdate, IEnumerable<string>> chunks, Func<CompletionUsage, string> usageChunk)
        : this(start.Select(Unnamed), update => chunks(update).Select(Unnamed), usage => Unnamed(usageChunk(usage)))
    {
    }

    /// <summary>Whether the stream ends with <c>data: [DONE]</c>.</summary>
    public bool EndsWithDone { get; init; } = true;

    /// <summary>The event that reports an engine failure once the stream began (default: an unnamed OpenAI error).</summary>
    public Func<OpenAIError, SseItem<string>> Error { get; init; } = error => Unnamed(OpenAIErrorResults.ToJson(error));

    private static SseItem<string> Unnamed(string data) => new(data);
}
