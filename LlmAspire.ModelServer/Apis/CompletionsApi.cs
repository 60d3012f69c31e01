using System.Text.Json;
using LlmAspire.Inference.Engine;
using LlmAspire.OpenAIApi;
using LlmAspire.OpenAIApi.Chat;
using LlmAspire.OpenAIApi.Completions;
using LlmAspire.OpenAIApi.Errors;
using LlmAspire.OpenAIApi.Models;
using LlmAspire.OpenAIApi.Requests;
using Microsoft.AspNetCore.Http.HttpResults;

namespace LlmAspire.ModelServer.Apis;

/// <summary>
/// <c>POST /v1/completions</c>, non-streamed and streamed (SSE), in the OpenAI shapes, with the legacy integer
/// <c>logprobs</c>. Requests are checked, then handed straight to the engine, which batches them with every other
/// running request; see <see cref="GenerationRun"/>.
/// </summary>
internal static class CompletionsApi
{
    public const string Operation = "text_completion";

    public static IEndpointRouteBuilder MapCompletionsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1").WithTags("Completions");

        api.MapPost("/completions", CreateCompletionAsync)
            .WithName("CreateCompletion")
            .Accepts<CompletionRequest>("application/json");

        return app;
    }

    public static async Task<Results<Ok<CompletionResponse>, ServerSentEventsResult<string>, JsonHttpResult<OpenAIErrorResponse>>> CreateCompletionAsync(
        HttpContext context,
        CompletionServices services)
    {
        var read = await OpenAIRequestReader.ReadAsync(
            context.Request, OpenAIJsonContext.Default.CompletionRequest, services.Options.MaxRequestBodyBytes, context.RequestAborted);
        if (read.Error is not null)
        {
            services.Telemetry.Request("rejected");
            return OpenAIErrors.Create(read.StatusCode, read.Error);
        }

        var request = read.Request;

        if (!CompletionRequestValidator.TryValidate(request!, services.Options.MaxSequences, out var settings, out var invalid))
        {
            services.Telemetry.Request("rejected");
            return invalid;
        }

        if (!services.Host.TryGetModel(out var model))
        {
            services.Telemetry.Request("unavailable");
            return OpenAIErrors.ModelUnavailable(services.Host, context.Response);
        }

        // The prompt is encoded no further than the context: a longer one is refused without tokenizing all of it.
        var promptTokens = model.Tokenizer.Encode(settings.Prompt, addBos: true, model.Engine.Context);
        if ((SamplingValidator.ValidateForModel(settings.Sampling, model)
            ?? SamplingValidator.ValidateMaxTokens("max_tokens", settings.MaxTokens, model)
            ?? SamplingValidator.ValidatePromptLength(promptTokens.Length, model)) is { } unfit)
        {
            services.Telemetry.Request("rejected");
            return unfit;
        }

        var generation = settings.Sampling.ToGenerationRequest(promptTokens, settings.MaxTokens) with
        {
            Logprobs = settings.Logprobs is not null,
            TopLogprobs = settings.Logprobs ?? 0,
        };
        if (!GenerationRun.TryStart(context, services, model, Operation, "cmpl-", generation, settings.Sampling, "max_tokens", out var run, out var refused))
        {
            return refused;
        }

        if (settings.Sampling.Stream)
        {
            var offsets = new int[generation.N];
            return TypedResults.ServerSentEvents(run.StreamAsync(
                [],
                update => StreamChunks(run, update, offsets),
                usage => Chunk(run, [], usage)));
        }

        IReadOnlyList<ChoiceResult> choices;
        try
        {
            choices = await run.CollectAsync();
        }
        catch (OperationCanceledException) when (run.CancellationToken.IsCancellationRequested)
        {
            run.Cancelled();
            throw;
        }
        catch (Exception ex)
        {
            run.Failed(ex);
            return OpenAIErrorResults.Create(StatusCodes.Status500InternalServerError, GenerationRun.GenerationFailed);
        }

        run.Completed();
        return TypedResults.Ok(new CompletionResponse(
            run.Id,
            run.Created,
            run.Model.Id,
            [.. choices.Select((choice, index) => new CompletionChoice(
                choice.Text, index, choice.Logprobs is { } logprobs ? LegacyLogprobs(logprobs, generation.TopLogprobs, 0) : null, choice.FinishReason))],
            run.Usage));
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
