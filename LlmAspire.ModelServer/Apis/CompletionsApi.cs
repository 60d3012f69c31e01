using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using LlmAspire.Inference;
using LlmAspire.Inference.Engine;
using LlmAspire.OpenAIApi;
using LlmAspire.OpenAIApi.Completions;
using LlmAspire.OpenAIApi.Errors;
using Microsoft.AspNetCore.Http.HttpResults;

namespace LlmAspire.ModelServer.Apis;

/// <summary>
/// <c>POST /v1/completions</c>, non-streamed and streamed (SSE), in the OpenAI shapes, with the legacy integer
/// <c>logprobs</c>: a prompt string encoded with BOS, or token ids used as given. The road it takes is <see cref="GenerationPipeline"/>'s.
/// </summary>
internal sealed class CompletionsApi : IGenerationEndpoint<CompletionRequest, CompletionSettings>
{
    public const string OperationName = "text_completion";

    private static readonly CompletionsApi s_instance = new();

    public string Operation => OperationName;

    public string IdPrefix => "cmpl-";

    public JsonTypeInfo<CompletionRequest> RequestType => OpenAIJsonContext.Default.CompletionRequest;

    /// <summary>Maps <c>POST /v1/completions</c>.</summary>
    public static IEndpointRouteBuilder Map(IEndpointRouteBuilder app)
    {
        app.MapGroup("/v1").WithTags("Completions")
            .MapGeneration<CompletionRequest, CompletionSettings, CompletionResponse>("/completions", s_instance)
            .WithName("CreateCompletion");
        return app;
    }

    public JsonHttpResult<OpenAIErrorResponse>? Validate(CompletionRequest request, int maxSequences, out CompletionSettings? settings) =>
        CompletionRequestValidator.TryValidate(request, maxSequences, out settings, out var error) ? null : error;

    public SamplingSettings Sampling(CompletionSettings settings) => settings.Sampling;

    public JsonHttpResult<OpenAIErrorResponse>? Prepare(CompletionSettings settings, LanguageModel model, out PreparedGeneration? generation)
    {
        generation = null;
        if (SamplingValidator.ValidateMaxTokens("max_tokens", settings.MaxTokens, model) is { } tooMany)
        {
            return tooMany;
        }

        // The prompt is encoded no further than the context: a longer one is refused without tokenizing all of it.
        var promptTokens = settings.Prompt.TokenIds ?? model.Tokenizer.Encode(settings.Prompt.Text!, addBos: true, model.ContextLength);
        if (settings.Prompt.TokenIds?.FirstOrDefault(id => id >= model.VocabularySize, -1) is >= 0 and var unknown)
        {
            return OpenAIErrors.BadRequest(
                $"Invalid 'prompt': token id {unknown} is outside the vocabulary of {model.Id} (ids 0 to {model.VocabularySize - 1}).", "prompt", "invalid_value");
        }

        if (SamplingValidator.ValidatePromptLength(promptTokens.Length, model) is { } tooLong)
        {
            return tooLong;
        }

        generation = new PreparedGeneration(
            settings.Sampling.ToGenerationRequest(promptTokens, settings.MaxTokens) with
            {
                Logprobs = settings.Logprobs is not null,
                TopLogprobs = settings.Logprobs ?? 0,
            },
            "max_tokens");
        return null;
    }

    public IResult Respond(GenerationRun run, IReadOnlyList<ChoiceResult> choices) =>
        TypedResults.Ok(new CompletionResponse(
            run.Id,
            run.Created,
            run.Model.Id,
            [.. choices.Select((choice, index) => new CompletionChoice(
                choice.Text, index, choice.Logprobs is { } logprobs ? LegacyLogprobs(logprobs, run.Request.TopLogprobs, 0) : null, choice.FinishReason))],
            run.Usage));

    public GenerationStreamShape Stream(GenerationRun run)
    {
        var offsets = new int[run.Request.N];
        return new GenerationStreamShape([], update => StreamChunks(run, update, offsets), usage => Chunk(run, [], usage));
    }

    /// <summary>One chunk per update that has text, log-probabilities or the choice's finish reason.</summary>
    private static IEnumerable<string> StreamChunks(GenerationRun run, GenerationUpdate update, int[] offsets)
    {
        var logprobs = run.Request.Logprobs ? run.VisibleLogprobs(update) : null;
        if (update.FinishReason is null && update.Text.Length == 0 && logprobs is not { Count: > 0 })
        {
            yield break;
        }

        CompletionLogprobs? legacy = null;
        if (logprobs is not null)
        {
            legacy = LegacyLogprobs(logprobs, run.Request.TopLogprobs, offsets[update.Index]);
            offsets[update.Index] += logprobs.Sum(token => token.Token.Length);
        }

        var finishReason = update.FinishReason switch
        {
            FinishReason.Length => "length",
            FinishReason.Stop => "stop",
            _ => null,
        };
        yield return Chunk(run, [new CompletionChoice(update.Text, update.Index, legacy, finishReason)], usage: null);
    }

    /// <summary>
    /// OpenAI's legacy logprobs: per token its text, log-probability, the <paramref name="top"/> most likely tokens
    /// with the chosen one among them, and its character offset (from <paramref name="offset"/>) in the completion.
    /// </summary>
    private static CompletionLogprobs LegacyLogprobs(IReadOnlyList<TokenLogprob> tokens, int top, int offset)
    {
        var offsets = new int[tokens.Count];
        var alternatives = new IReadOnlyDictionary<string, float>[tokens.Count];
        for (var i = 0; i < tokens.Count; i++)
        {
            offsets[i] = offset;
            offset += tokens[i].Token.Length;
            var best = new Dictionary<string, float>();
            foreach (var alternative in tokens[i].TopLogprobs.Take(top))
            {
                best.TryAdd(alternative.Token, alternative.Logprob);
            }

            best.TryAdd(tokens[i].Token, tokens[i].Logprob);
            alternatives[i] = best;
        }

        return new CompletionLogprobs([.. tokens.Select(t => t.Token)], [.. tokens.Select(t => t.Logprob)], alternatives, offsets);
    }

    /// <summary>A chunk as JSON: with a <c>usage</c> field (null but on the usage chunk) only when the client asked for usage.</summary>
    private static string Chunk(GenerationRun run, IReadOnlyList<CompletionChoice> choices, CompletionUsage? usage) => run.IncludeUsage
        ? JsonSerializer.Serialize(new CompletionResponse(run.Id, run.Created, run.Model.Id, choices, usage), OpenAIJsonContext.Wire.CompletionResponse)
        : JsonSerializer.Serialize(new CompletionChunk(run.Id, run.Created, run.Model.Id, choices), OpenAIJsonContext.Wire.CompletionChunk);
}
