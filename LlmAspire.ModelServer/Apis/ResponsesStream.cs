using System.Net.ServerSentEvents;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using LlmAspire.Inference.Engine;
using LlmAspire.Inference.Tools;
using LlmAspire.OpenAIApi;
using LlmAspire.OpenAIApi.Completions;
using LlmAspire.OpenAIApi.Errors;
using LlmAspire.OpenAIApi.Responses;

namespace LlmAspire.ModelServer.Apis;

/// <summary>
/// One streamed response as OpenAI streams it, each SSE event named by its <c>type</c> and numbered by
/// <c>sequence_number</c>: <c>response.created</c>, <c>response.in_progress</c>; per output item
/// <c>response.output_item.added</c>, then for a message <c>response.content_part.added</c>, its
/// <c>response.output_text.delta</c>s, <c>response.output_text.done</c>, <c>response.content_part.done</c>, or for a
/// call its <c>response.function_call_arguments.delta</c>s and <c>.done</c>; <c>response.output_item.done</c>; and
/// last <c>response.completed</c> (or <c>response.incomplete</c>) with the whole response and its usage — no
/// <c>[DONE]</c>. The items follow the chat output parser's events, which settle calls one after another: one item is
/// open at a time, a call's start or text after a call closes the open item, and the choice's end closes the last.
/// </summary>
internal sealed class ResponsesStream
{
    private readonly GenerationRun _run;
    private readonly ResponseEcho _echo;
    private readonly ChatOutputParser _parser;
    private readonly List<ResponseOutputItem> _output = [];
    private readonly List<SseItem<string>> _events = [];
    private int _sequence;
    private OpenItem? _open;
    private string _status = ResponseStatus.Completed;

    public ResponsesStream(GenerationRun run, ResponseEcho echo)
    {
        _run = run;
        _echo = echo;
        _parser = run.CreateOutputParser();
    }

    /// <summary>The stream's events as the pipeline sends them.</summary>
    public GenerationStreamShape Shape() => new(Start(), Chunks, Finished)
    {
        EndsWithDone = false,
        Error = Failed,
    };

    private IEnumerable<SseItem<string>> Start()
    {
        var response = _echo.Response(_run, ResponseStatus.InProgress, [], null);
        yield return Lifecycle("response.created", response);
        yield return Lifecycle("response.in_progress", response);
    }

    private List<SseItem<string>> Chunks(GenerationUpdate update)
    {
        _events.Clear();
        foreach (var settled in _parser.Push(update.Text))
        {
            Handle(settled);
        }

        if (update.FinishReason is { } reason)
        {
            foreach (var settled in _parser.Finish())
            {
                Handle(settled);
            }

            _status = reason == FinishReason.Length ? ResponseStatus.Incomplete : ResponseStatus.Completed;
            if (_open is null && _output.Count == 0)
            {
                // An answer with no text and no calls is still one (empty) message, as the non-streamed response has it.
                StartMessage();
            }

            Close();
        }

        return [.. _events];
    }

    private SseItem<string> Finished(CompletionUsage usage)
    {
        var type = _status == ResponseStatus.Incomplete ? "response.incomplete" : "response.completed";
        return Lifecycle(type, _echo.Response(_run, _status, _output, ResponseStatus.Usage(usage)));
    }

    private SseItem<string> Failed(OpenAIError error) =>
        Event(ResponseErrorEvent.EventType, new ResponseErrorEvent(_sequence++, error.Code, error.Message, error.Param), OpenAIJsonContext.Wire.ResponseErrorEvent);

    private void Handle(ChatOutputEvent settled)
    {
        switch (settled)
        {
            case ContentDelta { Text.Length: > 0 } content:
                if (_open is not OpenMessage)
                {
                    Close();
                    StartMessage();
                }

                var message = (OpenMessage)_open!;
                message.Text.Append(content.Text);
                Add(ResponseTextDeltaEvent.EventType, new ResponseTextDeltaEvent(_sequence++, message.Id, message.OutputIndex, 0, content.Text), OpenAIJsonContext.Wire.ResponseTextDeltaEvent);
                break;
            case ToolCallStarted started:
                Close();
                var call = new OpenCall(ResponseStatus.NewId("fc_"), _output.Count, started.Id, started.Name);
                _open = call;
                AddItem("response.output_item.added", call.OutputIndex, new ResponseFunctionCallItem(call.Id, ResponseStatus.InProgress, call.CallId, call.Name, ""));
                break;
            case ToolCallArgumentsDelta { Arguments.Length: > 0 } arguments when _open is OpenCall open:
                open.Arguments.Append(arguments.Arguments);
                Add(
                    ResponseFunctionCallArgumentsDeltaEvent.EventType,
                    new ResponseFunctionCallArgumentsDeltaEvent(_sequence++, open.Id, open.OutputIndex, arguments.Arguments),
                    OpenAIJsonContext.Wire.ResponseFunctionCallArgumentsDeltaEvent);
                break;
        }
    }

    private void StartMessage()
    {
        var message = new OpenMessage(ResponseStatus.NewId("msg_"), _output.Count);
        _open = message;
        AddItem("response.output_item.added", message.OutputIndex, new ResponseMessageItem(message.Id, ResponseStatus.InProgress, []));
        AddPart("response.content_part.added", message, "");
    }

    /// <summary>Ends the open item, if any, with its done events, and adds it to the output.</summary>
    private void Close()
    {
        switch (_open)
        {
            case OpenMessage message:
                var text = message.Text.ToString();
                Add(ResponseTextDoneEvent.EventType, new ResponseTextDoneEvent(_sequence++, message.Id, message.OutputIndex, 0, text), OpenAIJsonContext.Wire.ResponseTextDoneEvent);
                AddPart("response.content_part.done", message, text);
                var item = new ResponseMessageItem(message.Id, _status, [new ResponseOutputText(text)]);
                AddItem("response.output_item.done", message.OutputIndex, item);
                _output.Add(item);
                break;
            case OpenCall call:
                var arguments = call.Arguments.ToString();
                Add(
                    ResponseFunctionCallArgumentsDoneEvent.EventType,
                    new ResponseFunctionCallArgumentsDoneEvent(_sequence++, call.Id, call.OutputIndex, call.Name, arguments),
                    OpenAIJsonContext.Wire.ResponseFunctionCallArgumentsDoneEvent);
                var done = new ResponseFunctionCallItem(call.Id, ResponseStatus.Completed, call.CallId, call.Name, arguments);
                AddItem("response.output_item.done", call.OutputIndex, done);
                _output.Add(done);
                break;
        }

        _open = null;
    }

    private void AddItem(string type, int outputIndex, ResponseOutputItem item) =>
        Add(type, new ResponseOutputItemEvent(type, _sequence++, outputIndex, item), OpenAIJsonContext.Wire.ResponseOutputItemEvent);

    private void AddPart(string type, OpenMessage message, string text) =>
        Add(type, new ResponseContentPartEvent(type, _sequence++, message.Id, message.OutputIndex, 0, new ResponseOutputText(text)), OpenAIJsonContext.Wire.ResponseContentPartEvent);

    private void Add<T>(string type, T value, JsonTypeInfo<T> typeInfo) => _events.Add(Event(type, value, typeInfo));

    private SseItem<string> Lifecycle(string type, ResponseObject response) =>
        Event(type, new ResponseLifecycleEvent(type, _sequence++, response), OpenAIJsonContext.Wire.ResponseLifecycleEvent);

    private static SseItem<string> Event<T>(string type, T value, JsonTypeInfo<T> typeInfo) => new(JsonSerializer.Serialize(value, typeInfo), type);

    private abstract record OpenItem(string Id, int OutputIndex);

    private sealed record OpenMessage(string Id, int OutputIndex) : OpenItem(Id, OutputIndex)
    {
        public StringBuilder Text { get; } = new();
    }

    private sealed record OpenCall(string Id, int OutputIndex, string CallId, string Name) : OpenItem(Id, OutputIndex)
    {
        public StringBuilder Arguments { get; } = new();
    }
}
