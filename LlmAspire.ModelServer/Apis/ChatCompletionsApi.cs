using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using LlmAspire.Inference;
using LlmAspire.Inference.Engine;
using LlmAspire.Inference.Constraints;
using LlmAspire.Inference.Tokenization;
using LlmAspire.Inference.Tools;
using LlmAspire.OpenAIApi;
using LlmAspire.OpenAIApi.Chat;
using LlmAspire.OpenAIApi.Completions;
using LlmAspire.OpenAIApi.Errors;
using Microsoft.AspNetCore.Http.HttpResults;

namespace LlmAspire.ModelServer.Apis;

/// <summary>
/// <c>POST /v1/chat/completions</c> in the OpenAI shapes: the messages rendered by the model's chat renderer (its
/// end-of-turn tokens end the answer), non-streamed as a <c>chat.completion</c> or streamed as
/// <c>chat.completion.chunk</c>s — each choice's first delta carries the role, <c>finish_reason</c> is null until the
/// choice's last chunk, an optional usage chunk with no choices, then <c>[DONE]</c>. The road it takes is
/// <see cref="GenerationPipeline"/>'s.
/// </summary>
internal sealed class ChatCompletionsApi : IGenerationEndpoint<ChatCompletionRequest, ChatSettings>
{
    public const string OperationName = "chat";

    private static readonly ChatCompletionsApi s_instance = new();

    public string Operation => OperationName;

    public string IdPrefix => "chatcmpl-";

    public JsonTypeInfo<ChatCompletionRequest> RequestType => OpenAIJsonContext.Default.ChatCompletionRequest;

    /// <summary>Maps <c>POST /v1/chat/completions</c>.</summary>
    public static IEndpointRouteBuilder Map(IEndpointRouteBuilder app)
    {
        app.MapGroup("/v1").WithTags("Chat")
            .MapGeneration<ChatCompletionRequest, ChatSettings, ChatCompletionResponse>("/chat/completions", s_instance)
            .WithName("CreateChatCompletion");
        return app;
    }

    public JsonHttpResult<OpenAIErrorResponse>? Validate(ChatCompletionRequest request, int maxSequences, out ChatSettings? settings) =>
        ChatRequestValidator.TryValidate(request, maxSequences, out settings, out var error) ? null : error;

    public SamplingSettings Sampling(ChatSettings settings) => settings.Sampling;

    public JsonHttpResult<OpenAIErrorResponse>? Prepare(ChatSettings settings, LanguageModel model, out PreparedGeneration? generation)
    {
        generation = null;
        if (SamplingValidator.ValidateMaxTokens(settings.MaxTokensParam, settings.MaxTokens, model) is { } tooMany)
        {
            return tooMany;
        }

        var chat = model.Chat;
        if (!chat.CanChat)
        {
            return OpenAIErrors.BadRequest(
                $"The model {model.Id} cannot serve chat completions: {chat.UnsupportedReason} Use /v1/completions with a prompt instead.",
                "messages",
                "chat_template_unsupported");
        }

        var format = ToolCallFormat.For(chat.Template);
        var (messages, tools) = format.Adapt(settings.Messages, settings.Tools);
        int[] promptTokens;
        try
        {
            promptTokens = chat.Render(messages, tools, model.ContextLength);
        }
        catch (ArgumentException ex)
        {
            // The template rejects the conversation, e.g. roles that do not alternate where the model's template requires it.
            return OpenAIErrors.BadRequest($"Invalid 'messages': {ex.Message}", "messages", "invalid_value");
        }

        if (SamplingValidator.ValidatePromptLength(promptTokens.Length, model) is { } tooLong)
        {
            return tooLong;
        }

        // Without a budget the answer may fill what the context leaves, as vLLM does.
        var maxTokens = settings.MaxTokens ?? model.ContextLength - promptTokens.Length;
        var request = settings.Sampling.ToGenerationRequest(promptTokens, maxTokens, chat.StopSequences) with
        {
            Logprobs = settings.Logprobs,
            TopLogprobs = settings.TopLogprobs,
            StopTokenIds = chat.StopTokenIds.Count > 0 ? chat.StopTokenIds : null,
        };
        Func<ChatOutputParser>? parser = null;
        if (settings.Tools.Count > 0 && settings.ToolChoice.Mode != ToolChoiceMode.None)
        {
            // The answer is held to well-formed calls of the request's functions (or, with auto, text or calls).
            var spec = new ToolCallSpec(
                format.Syntax,
                [.. settings.Tools.Select(t => new ToolCallSpec.Function(t.Name, t.Parameters))],
                settings.ToolChoice.Mode,
                settings.ToolChoice.Function,
                settings.ParallelToolCalls,
                settings.ToolChoice.Mode == ToolChoiceMode.Auto ? settings.Sampling.Constraint?.Constraint : null);
            try
            {
                request = request with { Grammar = model.Grammars.Get(spec.ToConstraint()) };
            }
            catch (GrammarException ex)
            {
                return OpenAIErrors.BadRequest($"Invalid 'tools': {ex.Message}", "tools", "invalid_value");
            }

            parser = format.CreateParser;
        }

        generation = new PreparedGeneration(request, settings.MaxTokensParam) { OutputParser = parser };
        return null;
    }

    public IResult Respond(GenerationRun run, IReadOnlyList<ChoiceResult> choices) =>
        TypedResults.Ok(new ChatCompletionResponse(
            run.Id,
            run.Created,
            run.Model.Id,
            [.. choices.Select((choice, index) =>
            {
                var parsed = ParseChoice(run, choice);
                var message = new ChatResponseMessage(parsed.Content)
                {
                    ToolCalls = parsed.ToolCalls.Count > 0 ? [.. parsed.ToolCalls.Select(c => new ChatToolCallWire(c.Id, new ChatFunctionCallWire(c.Name, c.Arguments)))] : null,
                };
                return new ChatChoice(index, message, choice.Logprobs is { } logprobs ? ChatLogprobs(logprobs, run.Request.TopLogprobs) : null, parsed.FinishReason);
            })],
            run.Usage));

    public GenerationStreamShape Stream(GenerationRun run)
    {
        var parsers = new ChatOutputParser[run.Request.N];
        var called = new bool[run.Request.N];
        return new(
            Enumerable.Range(0, run.Request.N).Select(index => Chunk(run, new ChatChunkChoice(index, ChatDelta.Start, null, null))),
            update => StreamChunks(run, update, parsers[update.Index] ??= run.CreateOutputParser(), called),
            usage => UsageChunk(run, usage));
    }

    /// <summary>
    /// The chunks of an update: its text read by the choice's output parser — content deltas, and for each call a
    /// delta with its id, type and name then its arguments (OpenAI's shape) — its log-probabilities with the first
    /// chunk (or alone); on a choice's last update, what the parser held back, then an empty delta with the finish
    /// reason (<c>tool_calls</c> when the choice called functions and stopped on its own).
    /// </summary>
    private static IEnumerable<string> StreamChunks(GenerationRun run, GenerationUpdate update, ChatOutputParser parser, bool[] called)
    {
        var logprobs = run.Request.Logprobs ? run.VisibleLogprobs(update) : null;
        var chatLogprobs = logprobs is { Count: > 0 } ? ChatLogprobs(logprobs, run.Request.TopLogprobs) : null;
        var events = new List<ChatOutputEvent>(parser.Push(update.Text));
        if (update.FinishReason is not null)
        {
            events.AddRange(parser.Finish());
        }

        foreach (var chatEvent in events)
        {
            var delta = chatEvent switch
            {
                ContentDelta text => new ChatDelta(null, text.Text),
                ToolCallStarted start => new ChatDelta(null, null) { ToolCalls = [new ChatToolCallDelta(start.Index, start.Id, "function", new ChatFunctionCallWire(start.Name, ""))] },
                ToolCallArgumentsDelta arguments => new ChatDelta(null, null) { ToolCalls = [new ChatToolCallDelta(arguments.Index, null, null, new ChatFunctionCallWire(null, arguments.Arguments))] },
                _ => null,
            };
            if (delta is null)
            {
                continue;
            }

            called[update.Index] |= chatEvent is ToolCallStarted;
            yield return Chunk(run, new ChatChunkChoice(update.Index, delta, chatLogprobs, null));
            chatLogprobs = null;
        }

        if (chatLogprobs is not null)
        {
            yield return Chunk(run, new ChatChunkChoice(update.Index, new ChatDelta(null, ""), chatLogprobs, null));
        }

        if (update.FinishReason is { } reason)
        {
            var finish = reason == FinishReason.Length ? "length" : called[update.Index] ? "tool_calls" : "stop";
            yield return Chunk(run, new ChatChunkChoice(update.Index, ChatDelta.Empty, null, finish));
        }
    }

    /// <summary>
    /// One finished choice read as an assistant message: its content (null when it is only calls), its function calls,
    /// and the finish reason — <c>tool_calls</c> when it ended on its own with calls, as OpenAI reports it.
    /// </summary>
    internal static ParsedChoice ParseChoice(GenerationRun run, ChoiceResult choice)
    {
        var parser = run.CreateOutputParser();
        parser.Push(choice.Text);
        parser.Finish();
        var reason = parser.ToolCalls.Count > 0 && choice.FinishReason == "stop" ? "tool_calls" : choice.FinishReason;
        return new ParsedChoice(parser.Content, parser.ToolCalls, reason);
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

/// <summary>A finished choice as an assistant message.</summary>
internal sealed record ParsedChoice(string? Content, IReadOnlyList<ChatToolCall> ToolCalls, string FinishReason);
