using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Net.ServerSentEvents;
using System.Security.Cryptography;
using System.Text;
using System.Threading.Channels;
using LlmAspire.Inference;
using LlmAspire.Inference.Engine;
using LlmAspire.Inference.Tools;
using LlmAspire.OpenAIApi.Completions;
using LlmAspire.OpenAIApi.Errors;
using LlmAspire.ModelServer.Telemetry;
using Microsoft.AspNetCore.Http.HttpResults;

namespace LlmAspire.ModelServer.Apis;

/// <summary>
/// One request handed to the engine: submitted at once (a full queue or an over-long request is answered before any
/// byte of a response), its updates read as they come, its usage, metrics, span and log line kept in one place. Its
/// cancellation is linked to <c>RequestAborted</c> and fired when the response ends, so a client that goes away — or
/// a stream that never started — frees the sequence within one engine step. Text never reaches the log.
/// </summary>
internal sealed partial class GenerationRun : IDisposable
{
    private readonly CompletionServices _services;
    private readonly CancellationTokenSource _cancellation;
    private readonly RequestTelemetry _telemetry;
    private readonly int[] _completionTokens;
    private readonly string?[] _finishReasons;
    private readonly long _start = Stopwatch.GetTimestamp();
    private readonly bool _stream;
    private readonly Func<ChatOutputParser>? _outputParser;
    private bool _ended;

    private GenerationRun(
        CompletionServices services,
        string id,
        LanguageModel model,
        PreparedGeneration generation,
        SamplingSettings sampling,
        ChannelReader<GenerationUpdate> updates,
        CancellationTokenSource cancellation,
        RequestTelemetry telemetry)
    {
        _services = services;
        Id = id;
        Created = services.TimeProvider.GetUtcNow().ToUnixTimeSeconds();
        Model = model;
        Request = generation.Request;
        _outputParser = generation.OutputParser;
        State = generation.State;
        Updates = updates;
        IncludeUsage = sampling.IncludeUsage;
        _stream = sampling.Stream;
        _cancellation = cancellation;
        _telemetry = telemetry;
        _completionTokens = new int[Request.N];
        _finishReasons = new string?[Request.N];
    }

    public string Id { get; }

    public long Created { get; }

    public LanguageModel Model { get; }

    public GenerationRequest Request { get; }

    /// <summary>What the endpoint kept from its request (<see cref="PreparedGeneration.State"/>).</summary>
    public object? State { get; }

    /// <summary>A new reader of one choice's output: content and function calls (everything is content without tools).</summary>
    public ChatOutputParser CreateOutputParser() => _outputParser?.Invoke() ?? new ChatOutputParser();

    /// <summary>The engine's updates: the request's choices interleaved, each ending with a finish reason.</summary>
    public ChannelReader<GenerationUpdate> Updates { get; }

    /// <summary>Whether a streamed response ends with a usage chunk (and every chunk carries a <c>usage</c> field).</summary>
    public bool IncludeUsage { get; }

    /// <summary>Prompt tokens reused from the prefix cache.</summary>
    public int CachedTokens { get; private set; }

    /// <summary>Fires when the client goes away or the response ends.</summary>
    public CancellationToken CancellationToken => _cancellation.Token;

    /// <summary>The usage so far (all of it once every choice finished).</summary>
    public CompletionUsage Usage =>
        new(Request.PromptTokens.Count, _completionTokens.Sum(), new PromptTokensDetails(CachedTokens));

    /// <summary>
    /// Submits <paramref name="generation"/> to <paramref name="model"/>; on refusal, the answer to send:
    /// 400 <c>context_length_exceeded</c> (naming <c>prompt</c> or the budget's parameter), 503 <c>queue_full</c>
    /// with <c>Retry-After</c>, or 503 while shutting down.
    /// </summary>
    public static bool TryStart(
        HttpContext context,
        CompletionServices services,
        LanguageModel model,
        string operation,
        string idPrefix,
        PreparedGeneration generation,
        SamplingSettings sampling,
        [NotNullWhen(true)] out GenerationRun? run,
        [NotNullWhen(false)] out JsonHttpResult<OpenAIErrorResponse>? error)
    {
        run = null;
        var request = generation.Request;
        var id = idPrefix + RandomNumberGenerator.GetHexString(24, lowercase: true);
        var telemetry = services.Telemetry.StartRequest(operation, id, model.Id, request);
        var cancellation = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);

        // Counted before submitting, released when the response has ended: a draining server waits for it.
        var response = services.Host.TrackResponse();
        try
        {
            var updates = model.Submit(request, cancellation.Token);
            telemetry.Queued(model.Waiting);
            run = new GenerationRun(services, id, model, generation, sampling, updates, cancellation, telemetry);
            context.Response.RegisterForDispose(run);
            context.Response.RegisterForDispose(response);
            error = null;
            return true;
        }
        catch (ContextLengthExceededException ex)
        {
            error = OpenAIErrors.ContextLengthExceeded(
                $"This model's maximum context length is {ex.Context} tokens. However, you requested {ex.PromptTokens + ex.MaxTokens} tokens "
                + $"({ex.PromptTokens} in the prompt, {ex.MaxTokens} for the completion). Please reduce the length of the prompt or the completion.",
                ex.PromptTooLong ? "prompt" : generation.BudgetParam);
            Refused(services, telemetry, cancellation, "rejected", "context_length_exceeded");
        }
        catch (EngineQueueFullException ex)
        {
            error = OpenAIErrors.QueueFull(context.Response, ex.Waiting);
            Refused(services, telemetry, cancellation, "queue_full", "queue_full");
        }
        catch (Exception ex) when (ex is EngineStoppedException or ObjectDisposedException)
        {
            error = OpenAIErrors.ShuttingDown(context.Response);
            Refused(services, telemetry, cancellation, "unavailable", "shutting_down");
        }

        response.Dispose();
        return false;
    }

    /// <summary>Records an update: its choice's token count and finish reason, the prefix-cache hit, the first token.</summary>
    public void Observe(GenerationUpdate update)
    {
        _telemetry.Update(update);
        CachedTokens = update.CachedTokens;
        _completionTokens[update.Index] = update.CompletionTokens;
        if (update.FinishReason is { } reason)
        {
            _finishReasons[update.Index] = FinishReasonText(reason);
        }
    }

    /// <summary>The log-probabilities of an update's visible tokens: the end-of-sequence or end-of-turn token that stopped a choice is left out.</summary>
    public IReadOnlyList<TokenLogprob>? VisibleLogprobs(GenerationUpdate update)
    {
        var logprobs = update.Logprobs;
        if (logprobs is { Count: > 0 } && update.FinishReason == FinishReason.Stop && IsEndToken(logprobs[^1].TokenId))
        {
            return [.. logprobs.Take(logprobs.Count - 1)];
        }

        return logprobs;
    }

    /// <summary>Reads every update of a non-streamed request; throws <see cref="OperationCanceledException"/> when the client went away.</summary>
    public async Task<IReadOnlyList<ChoiceResult>> CollectAsync()
    {
        var texts = Enumerable.Range(0, Request.N).Select(_ => new StringBuilder()).ToArray();
        var logprobs = Request.Logprobs ? Enumerable.Range(0, Request.N).Select(_ => new List<TokenLogprob>()).ToArray() : null;
        await foreach (var update in Updates.ReadAllAsync(CancellationToken))
        {
            Observe(update);
            texts[update.Index].Append(update.Text);
            if (logprobs is not null && VisibleLogprobs(update) is { } visible)
            {
                logprobs[update.Index].AddRange(visible);
            }
        }

        return [.. texts.Select((text, index) => new ChoiceResult(text.ToString(), logprobs?[index], _finishReasons[index] ?? "stop"))];
    }

    /// <summary>
    /// The SSE events of a streamed request: <paramref name="shape"/>'s start, then its chunks of each update,
    /// the usage chunk when asked for, then <c>[DONE]</c> where the shape ends so. An engine failure becomes the
    /// shape's error event that ends the stream.
    /// </summary>
    public async IAsyncEnumerable<SseItem<string>> StreamAsync(GenerationStreamShape shape)
    {
        foreach (var payload in shape.Start)
        {
            yield return payload;
        }

        await using var updates = Updates.ReadAllAsync(CancellationToken).GetAsyncEnumerator(CancellationToken);
        while (true)
        {
            GenerationUpdate update;
            Exception? failure = null;
            try
            {
                if (!await updates.MoveNextAsync())
                {
                    break;
                }

                update = updates.Current;
            }
            catch (OperationCanceledException) when (CancellationToken.IsCancellationRequested)
            {
                Cancelled();
                yield break;
            }
            catch (Exception ex)
            {
                failure = ex;
                update = null!;
            }

            if (failure is not null)
            {
                Failed(failure);
                yield return shape.Error(GenerationFailed);
                yield break;
            }

            Observe(update);
            foreach (var payload in shape.Chunks(update))
            {
                yield return payload;
            }
        }

        Completed();
        if (IncludeUsage)
        {
            yield return shape.UsageChunk(Usage);
        }

        if (shape.EndsWithDone)
        {
            yield return new SseItem<string>("[DONE]");
        }
    }

    /// <summary>The error a failed generation answers (500, or an error event once a stream began).</summary>
    public static OpenAIError GenerationFailed { get; } = new("The generation failed.", OpenAIError.ServerError, null, "generation_failed");

    /// <summary>Every choice finished.</summary>
    public void Completed()
    {
        if (!End())
        {
            return;
        }

        var usage = Usage;
        var finishReasons = _finishReasons.Select(reason => reason ?? "stop").ToArray();
        _services.Telemetry.Request("ok");
        _services.Telemetry.Tokens(usage.PromptTokens, usage.CompletionTokens);
        _telemetry.Completed(usage.CompletionTokens, _completionTokens.Max(), CachedTokens, finishReasons);
        LogCompleted(_services.Logger, Id, Request.N, usage.PromptTokens, CachedTokens, usage.CompletionTokens, string.Join(',', finishReasons), _stream, Stopwatch.GetElapsedTime(_start).TotalMilliseconds);
    }

    /// <summary>The client went away before every choice finished.</summary>
    public void Cancelled()
    {
        if (!End())
        {
            return;
        }

        var usage = Usage;
        _services.Telemetry.Request("cancelled");
        _services.Telemetry.Tokens(usage.PromptTokens, usage.CompletionTokens);
        _telemetry.Failed("cancelled", usage.CompletionTokens);
        LogCancelled(_services.Logger, Id, usage.CompletionTokens);
    }

    /// <summary>The engine failed the request.</summary>
    public void Failed(Exception exception)
    {
        if (!End())
        {
            return;
        }

        _services.Telemetry.Request("error");
        _telemetry.Failed(exception.GetType().FullName ?? "error", Usage.CompletionTokens);
        LogGenerationFailed(_services.Logger, exception, Id);
    }

    /// <summary>Frees the sequence if it still runs (the response ended first) and ends the span.</summary>
    public void Dispose()
    {
        _cancellation.Cancel();
        Cancelled();
        _cancellation.Dispose();
        _telemetry.Dispose();
    }

    private static void Refused(CompletionServices services, RequestTelemetry telemetry, CancellationTokenSource cancellation, string outcome, string errorType)
    {
        services.Telemetry.Request(outcome);
        telemetry.Failed(errorType, 0);
        telemetry.Dispose();
        cancellation.Dispose();
    }

    private static string FinishReasonText(FinishReason reason) => reason == FinishReason.Length ? "length" : "stop";

    private bool IsEndToken(int id) => Model.EndTokenIds.Contains(id) || Request.StopTokenIds?.Contains(id) == true;

    private bool End()
    {
        if (_ended)
        {
            return false;
        }

        _ended = true;
        return true;
    }

    [LoggerMessage(LogLevel.Information, "Completion {CompletionId} cancelled: the client went away after {CompletionTokens} completion tokens.")]
    private static partial void LogCancelled(ILogger logger, string completionId, int completionTokens);

    [LoggerMessage(LogLevel.Information, "Completion {CompletionId}: n {Choices}, {PromptTokens} prompt tokens ({CachedTokens} cached), {CompletionTokens} completion tokens, finish {FinishReasons}, stream {Stream}, {ElapsedMs:F0} ms.")]
    private static partial void LogCompleted(ILogger logger, string completionId, int choices, int promptTokens, int cachedTokens, int completionTokens, string finishReasons, bool stream, double elapsedMs);

    [LoggerMessage(LogLevel.Error, "Completion {CompletionId} failed in the engine.")]
    private static partial void LogGenerationFailed(ILogger logger, Exception exception, string completionId);
}
