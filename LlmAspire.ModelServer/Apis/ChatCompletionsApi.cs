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
/// <c>POST /v1/chat/completions</c> in the OpenAI shapes: the messages rendered with the model folder's chat template
/// (its end-of-turn tokens end the answer), non-streamed as a <c>chat.completion</c> or streamed as
/// <c>chat.completion.chunk</c>s — each choice's first delta carries the role, <c>finish_reason</c> is null until the
/// choice's last chunk, an optional usage chunk with no choices, then <c>[DONE]</c>.
/// </summary>
internal static class ChatCompletionsApi
{
    public const string Operation = "chat";

    public static IEndpointRouteBuilder MapChatCompletionsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1").WithTags("Chat");

        api.MapPost("/chat/completions", CreateChatCompletionAsync)
            .WithName("CreateChatCompletion")
            .Accepts<ChatCompletionRequest>("application/json");

        return app;
    }

    public static async Task<Results<Ok<ChatCompletionResponse>, ServerSentEventsResult<string>, JsonHttpResult<OpenAIErrorResponse>>> CreateChatCompletionAsync(
        HttpContext context,
        CompletionServices services)
    {
        var read = await OpenAIRequestReader.ReadAsync(
            context.Request, OpenAIJsonContext.Default.ChatCompletionRequest, services.Options.MaxRequestBodyBytes, context.RequestAborted);
        if (read.Error is not null)
        {
            services.Telemetry.Request("rejected");
            return OpenAIErrors.Create(read.StatusCode, read.Error);
        }

        var request = read.Request;

        if (!ChatRequestValidator.TryValidate(request!, services.Options.MaxSequences, out var settings, out var invalid))
        {
            services.Telemetry.Request("rejected");
            return invalid;
        }

        if (!services.Host.TryGetModel(out var model) || services.Host.Chat is not { } chat)
        {
            services.Telemetry.Request("unavailable");
            return OpenAIErrors.ModelUnavailable(services.Host, context.Response);
        }

        if ((SamplingValidator.ValidateForModel(settings.Sampling, model)
            ?? SamplingValidator.ValidateMaxTokens(settings.MaxTokensParam, settings.MaxTokens, model)) is { } unfit)
        {
            services.Telemetry.Request("rejected");
            return unfit;
        }

        if (chat.Template is not { } template)
        {
            services.Telemetry.Request("rejected");
            return OpenAIErrors.BadRequest(chat.Unsupported!, "messages", "chat_template_unsupported");
        }

        int[] promptTokens;
        try
        {
            promptTokens = template.Encode(model.Tokenizer, settings.Messages, addGenerationPrompt: true, model.Engine.Context);
        }
        catch (ArgumentException ex)
        {
            // The template rejects the conversation, e.g. roles that do not alternate where the model's template requires it.
            services.Telemetry.Request("rejected");
            return OpenAIErrors.BadRequest($"Invalid 'messages': {ex.Message}", "messages", "invalid_value");
        }

        if (SamplingValidator.ValidatePromptLength(promptTokens.Length, model) is { } tooLong)
        {
            services.Telemetry.Request("rejected");
            return tooLong;
        }

        // Without a budget the answer may fill what the context leaves, as vLLM does.
        var maxTokens = settings.MaxTokens ?? model.Engine.Context - promptTokens.Length;
        var generation = settings.Sampling.ToGenerationRequest(promptTokens, maxTokens, template.StopSequences) with
        {
            Logprobs = settings.Logprobs,
            TopLogprobs = settings.TopLogprobs,
            StopTokenIds = chat.StopTokenIds.Count > 0 ? chat.StopTokenIds : null,
        };
        if (!GenerationRun.TryStart(context, services, model, Operation, "chatcmpl-", generation, settings.Sampling, settings.MaxTokensParam, out var run, out var refused))
        {
            return refused;
        }

        if (settings.Sampling.Stream)
        {
            return TypedResults.ServerSentEvents(run.StreamAsync(
                Enumerable.Range(0, generation.N).Select(index => Chunk(run, new ChatChunkChoice(index, ChatDelta.Start, null, null))),
                update => StreamChunks(run, update),
                usage => UsageChunk(run, usage)));
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
        return TypedResults.Ok(new ChatCompletionResponse(
            run.Id,
            run.Created,
            run.Model.Id,
            [.. choices.Select((choice, index) => new ChatChoice(
                index, new ChatResponseMessage(choice.Text), choice.Logprobs is { } logprobs ? ChatLogprobs(logprobs, generation.TopLogprobs) : null, choice.FinishReason))],
            run.Usage));
    }

    /// <summary>A content chunk for an update's text (and log-probabilities); on a choice's last update, then a chunk with an empty delta and the finish reason.</summary>
    private static IEnumerable<string> StreamChunks(GenerationRun run, GenerationUpdate update)
    {
        var logprobs = run.Request.Logprobs ? run.VisibleLogprobs(update) : null;
        if (update.Text.Length > 0 || logprobs is { Count: > 0 })
        {
            var chatLogprobs = logprobs is not null ? ChatLogprobs(logprobs, run.Request.TopLogprobs) : null;
            yield return Chunk(run, new ChatChunkChoice(update.Index, new ChatDelta(null, update.Text), chatLogprobs, null));
        }

        if (update.FinishReason is { } reason)
        {
            yield return Chunk(run, new ChatChunkChoice(update.Index, ChatDelta.Empty, null, reason == FinishReason.Length ? "length" : "stop"));
        }
    }

    private static ChatLogprobs ChatLogprobs(IReadOnlyList<TokenLogprob> tokens, int top) =>
        new([.. tokens.Select(token => new ChatTokenLogprob(
            token.Token,
            token.Logprob,
            Bytes(token.Bytes),
            [.. token.TopLogprobs.Take(top).Select(alternative => new ChatTopLogprob(alternative.Token, alternative.Logprob, Bytes(alternative.Bytes)))]))]);

    private static int[] Bytes(byte[] bytes) => Array.ConvertAll(bytes, b => (int)b);

    /// <summary>A chunk as JSON: with a <c>usage</c> field (null) only when the client asked for usage.</summary>
    private static string Chunk(GenerationRun run, ChatChunkChoice choice) => run.IncludeUsage
        ? JsonSerializer.Serialize(new ChatCompletionUsageChunk(run.Id, run.Created, run.Model.Id, [choice], null), OpenAIJsonContext.Wire.ChatCompletionUsageChunk)
        : JsonSerializer.Serialize(new ChatCompletionChunk(run.Id, run.Created, run.Model.Id, [choice]), OpenAIJsonContext.Wire.ChatCompletionChunk);

    private static string UsageChunk(GenerationRun run, CompletionUsage usage) =>
        JsonSerializer.Serialize(new ChatCompletionUsageChunk(run.Id, run.Created, run.Model.Id, [], usage), OpenAIJsonContext.Wire.ChatCompletionUsageChunk);
}
