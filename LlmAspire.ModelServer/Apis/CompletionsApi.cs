using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using LlmAspire.Inference;
using LlmAspire.Inference.Engine;
using LlmAspire.ModelServer.Contracts;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;

namespace LlmAspire.ModelServer.Apis;

/// <summary>
/// <c>POST /v1/completions</c>, non-streamed and streamed (SSE), in the OpenAI shapes. Requests are checked
/// before they queue; generations run one at a time behind <see cref="Hosting.GenerationQueue"/>; a client
/// that goes away cancels its wait or its generation. Prompt and completion text are never logged.
/// </summary>
internal static partial class CompletionsApi
{
    public static IEndpointRouteBuilder MapCompletionsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1").WithTags("Completions");

        api.MapPost("/completions", CreateCompletionAsync)
            .WithName("CreateCompletion")
            .Accepts<CompletionRequest>("application/json");

        return app;
    }

    public static async Task<Results<Ok<CompletionResponse>, ServerSentEventsResult<string>, JsonHttpResult<ErrorResponse>>> CreateCompletionAsync(
        HttpContext context,
        CompletionServices services)
    {
        var cancellationToken = context.RequestAborted;
        var (request, readError) = await ReadRequestAsync(context.Request, services.Options.MaxRequestBodyBytes, cancellationToken);
        if (readError is not null)
        {
            services.Metrics.Request("rejected");
            return readError;
        }

        if (!CompletionRequestValidator.TryValidate(request!, out var settings, out var invalid))
        {
            services.Metrics.Request("rejected");
            return invalid;
        }

        if (!services.Host.TryGetModel(out var model))
        {
            services.Metrics.Request("unavailable");
            return OpenAIErrors.ModelUnavailable(services.Host, context.Response);
        }

        var promptTokens = model.Tokenizer.Encode(settings.Prompt, addBos: true);
        if (CompletionRequestValidator.ValidateForModel(settings, model, promptTokens.Length) is { } tooLong)
        {
            services.Metrics.Request("rejected");
            return tooLong;
        }

        var lease = await services.Queue.TryEnterAsync(cancellationToken);
        if (lease is null)
        {
            services.Metrics.Request("queue_full");
            return services.Queue.IsClosed
                ? OpenAIErrors.ModelUnavailable(services.Host, context.Response)
                : OpenAIErrors.QueueFull(context.Response, services.Options.MaxQueue);
        }

        var completion = new Completion(
            $"cmpl-{RandomNumberGenerator.GetHexString(24, lowercase: true)}",
            services.TimeProvider.GetUtcNow().ToUnixTimeSeconds(),
            model,
            new GenerationRequest(promptTokens, settings.MaxTokens, settings.Temperature, settings.TopP, settings.Seed, settings.Stop),
            settings.IncludeUsage);

        if (settings.Stream)
        {
            // The lease travels with the stream; RegisterForDispose frees it even if the stream never starts.
            context.Response.RegisterForDispose(lease);
            return TypedResults.ServerSentEvents(StreamCompletionAsync(completion, lease, services, cancellationToken));
        }

        using (lease)
        {
            return await CompleteAsync(completion, services, cancellationToken);
        }
    }

    private static async Task<Results<Ok<CompletionResponse>, ServerSentEventsResult<string>, JsonHttpResult<ErrorResponse>>> CompleteAsync(
        Completion completion,
        CompletionServices services,
        CancellationToken cancellationToken)
    {
        var stopwatch = Stopwatch.StartNew();
        var text = new StringBuilder();
        GenerationUpdate? last = null;
        try
        {
            await foreach (var update in completion.Model.GenerateAsync(completion.Generation, cancellationToken))
            {
                text.Append(update.Text);
                last = update;
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Cancelled(services, completion, last?.CompletionTokens ?? 0);
            throw;
        }
        catch (Exception ex)
        {
            services.Metrics.Request("error");
            LogGenerationFailed(services.Logger, ex, completion.Id);
            return OpenAIErrors.Create(StatusCodes.Status500InternalServerError, "The generation failed.", OpenAIErrors.ServerError, null, "generation_failed");
        }

        var completionTokens = last?.CompletionTokens ?? 0;
        var finishReason = FinishReasonText(last?.FinishReason, completionTokens, completion.Generation.MaxTokens);
        Completed(services, completion, completionTokens, finishReason, stream: false, stopwatch);
        return TypedResults.Ok(new CompletionResponse(
            completion.Id,
            completion.Created,
            completion.Model.Id,
            [new CompletionChoice(text.ToString(), 0, finishReason)],
            new CompletionUsage(completion.PromptTokens, completionTokens)));
    }

    /// <summary>
    /// The SSE events: one text chunk per engine update (finish_reason null until the last), the usage chunk
    /// with empty choices when asked for, then <c>[DONE]</c>. An engine failure becomes an error event that ends the stream.
    /// </summary>
    private static async IAsyncEnumerable<string> StreamCompletionAsync(
        Completion completion,
        IDisposable lease,
        CompletionServices services,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var held = lease;
        var stopwatch = Stopwatch.StartNew();
        await using var updates = completion.Model.GenerateAsync(completion.Generation, cancellationToken).GetAsyncEnumerator(cancellationToken);
        var completionTokens = 0;
        var finishReason = "stop";
        while (true)
        {
            GenerationUpdate update;
            var failed = false;
            try
            {
                if (!await updates.MoveNextAsync())
                {
                    break;
                }

                update = updates.Current;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                Cancelled(services, completion, completionTokens);
                yield break;
            }
            catch (Exception ex)
            {
                services.Metrics.Request("error");
                LogGenerationFailed(services.Logger, ex, completion.Id);
                update = null!;
                failed = true;
            }

            if (failed)
            {
                yield return OpenAIErrors.ToJson(new ErrorDetail("The generation failed.", OpenAIErrors.ServerError, null, "generation_failed"));
                yield break;
            }

            completionTokens = update.CompletionTokens;
            if (update.FinishReason is null && update.Text.Length == 0)
            {
                continue;
            }

            string? chunkFinishReason = null;
            if (update.FinishReason is not null)
            {
                finishReason = chunkFinishReason = FinishReasonText(update.FinishReason, completionTokens, completion.Generation.MaxTokens);
            }

            yield return completion.Chunk([new CompletionChoice(update.Text, 0, chunkFinishReason)], usage: null);
        }

        Completed(services, completion, completionTokens, finishReason, stream: true, stopwatch);
        if (completion.IncludeUsage)
        {
            yield return completion.Chunk([], new CompletionUsage(completion.PromptTokens, completionTokens));
        }

        yield return "[DONE]";
    }

    private static async Task<(CompletionRequest? Request, JsonHttpResult<ErrorResponse>? Error)> ReadRequestAsync(
        HttpRequest request,
        long maxBodyBytes,
        CancellationToken cancellationToken)
    {
        if (!request.HasJsonContentType())
        {
            return (null, OpenAIErrors.UnsupportedMediaType(request.ContentType));
        }

        if (request.ContentLength > maxBodyBytes)
        {
            return (null, BodyTooLarge(maxBodyBytes));
        }

        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = maxBodyBytes;
        }

        try
        {
            var body = await JsonSerializer.DeserializeAsync(request.Body, ModelServerJsonContext.Default.CompletionRequest, cancellationToken);
            return body is null
                ? (null, OpenAIErrors.BadRequest("The request body must be a JSON object.", null, "invalid_json"))
                : (body, null);
        }
        catch (JsonException ex)
        {
            var param = ex.Path is { Length: > 2 } path && path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : null;
            var message = param is null
                ? "We could not parse the JSON body of your request: it is not a valid JSON object."
                : $"Invalid '{param}': the value is not valid JSON or has the wrong type.";
            return (null, OpenAIErrors.BadRequest(message, param, "invalid_json"));
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (null, BodyTooLarge(maxBodyBytes));
        }
    }

    private static JsonHttpResult<ErrorResponse> BodyTooLarge(long maxBodyBytes) =>
        OpenAIErrors.Create(
            StatusCodes.Status413PayloadTooLarge,
            $"The request body is larger than the {maxBodyBytes} bytes this server accepts.",
            OpenAIErrors.InvalidRequestError,
            null,
            "request_too_large");

    private static string FinishReasonText(FinishReason? reason, int completionTokens, int maxTokens) => reason switch
    {
        FinishReason.Stop => "stop",
        FinishReason.Length => "length",
        _ => completionTokens >= maxTokens ? "length" : "stop",
    };

    private static void Completed(CompletionServices services, Completion completion, int completionTokens, string finishReason, bool stream, Stopwatch stopwatch)
    {
        services.Metrics.Request("ok");
        services.Metrics.Tokens(completion.PromptTokens, completionTokens);
        LogCompleted(services.Logger, completion.Id, completion.PromptTokens, completionTokens, finishReason, stream, stopwatch.Elapsed.TotalMilliseconds);
    }

    private static void Cancelled(CompletionServices services, Completion completion, int completionTokens)
    {
        services.Metrics.Request("cancelled");
        services.Metrics.Tokens(completion.PromptTokens, completionTokens);
        LogCancelled(services.Logger, completion.Id, completionTokens);
    }

    [LoggerMessage(LogLevel.Information, "Completion {CompletionId} cancelled: the client went away after {CompletionTokens} completion tokens.")]
    private static partial void LogCancelled(ILogger logger, string completionId, int completionTokens);

    [LoggerMessage(LogLevel.Information, "Completion {CompletionId}: {PromptTokens} prompt tokens, {CompletionTokens} completion tokens, finish {FinishReason}, stream {Stream}, {ElapsedMs:F0} ms.")]
    private static partial void LogCompleted(ILogger logger, string completionId, int promptTokens, int completionTokens, string finishReason, bool stream, double elapsedMs);

    [LoggerMessage(LogLevel.Error, "Completion {CompletionId} failed in the engine.")]
    private static partial void LogGenerationFailed(ILogger logger, Exception exception, string completionId);

    /// <summary>One accepted completion: what the engine runs and what every chunk repeats.</summary>
    private sealed record Completion(string Id, long Created, LanguageModel Model, GenerationRequest Generation, bool IncludeUsage)
    {
        public int PromptTokens => Generation.PromptTokens.Count;

        /// <summary>A chunk as JSON: with a <c>usage</c> field (null but on the usage chunk) only when the client asked for usage.</summary>
        public string Chunk(IReadOnlyList<CompletionChoice> choices, CompletionUsage? usage) => IncludeUsage
            ? JsonSerializer.Serialize(new CompletionResponse(Id, Created, Model.Id, choices, usage), ModelServerJsonContext.Wire.CompletionResponse)
            : JsonSerializer.Serialize(new CompletionChunk(Id, Created, Model.Id, choices), ModelServerJsonContext.Wire.CompletionChunk);
    }
}
