using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using LlmAspire.Inference.Tokenization;

namespace LlmAspire.Inference.Tools;

/// <summary>
/// Reads an answer written in a <see cref="ToolCallSyntax"/> into content and calls, as it streams. Marker syntaxes
/// (<c>&lt;tool_call&gt;</c>, <c>functools[</c>) stream text until the marker, holding back any tail that could be the
/// marker's start, and settle each call when it closes; a Hermes call written as the grammar writes it
/// (<c>{"name": …, "arguments": {…</c>) starts as soon as its name is known and streams its arguments as they come,
/// as OpenAI streams them. Whole-answer syntaxes (Llama 3 JSON, Mistral) decide on the
/// answer's first visible character: a call list is settled at the end, anything else streams as text. A call list
/// that does not parse (an answer cut short by <c>max_tokens</c>, a free model's near miss) becomes content, so no
/// text is lost — except a streamed Hermes call cut short, which stays a call with the arguments written so far
/// (its finish reason, <c>length</c>, says so).
/// </summary>
public sealed partial class ToolCallParser : ChatOutputParser
{
    private const string HermesOpen = "<tool_call>";
    private const string HermesClose = "</tool_call>";
    private const string Phi4Open = "functools";

    private readonly ToolCallSyntax _syntax;
    private readonly StringBuilder _buffer = new();
    private State _state = State.Start;
    private int _calls;
    private StreamedCall? _streamed;

    /// <summary>A parser for answers in <paramref name="syntax"/>.</summary>
    public ToolCallParser(ToolCallSyntax syntax) => _syntax = syntax;

    private enum State
    {
        Start,
        Text,
        Call,
        WholeCalls,
    }

    private string? Open => _syntax switch
    {
        ToolCallSyntax.Hermes => HermesOpen,
        ToolCallSyntax.Phi4Mini => Phi4Open,
        _ => null,
    };

    /// <inheritdoc />
    public override IReadOnlyList<ChatOutputEvent> Push(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        _buffer.Append(text);
        var events = new List<ChatOutputEvent>();
        Advance(events, final: false);
        return events;
    }

    /// <inheritdoc />
    public override IReadOnlyList<ChatOutputEvent> Finish()
    {
        var events = new List<ChatOutputEvent>();
        Advance(events, final: true);
        return events;
    }

    /// <summary>A new call id in OpenAI's form (<c>call_</c> and 24 letters and digits).</summary>
    public static string NewCallId() => "call_" + RandomNumberGenerator.GetString("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 24);

    private void Advance(List<ChatOutputEvent> events, bool final)
    {
        while (true)
        {
            string buffered = _buffer.ToString();
            switch (_state)
            {
                case State.Start:
                    if (Open is not null)
                    {
                        _state = State.Text;
                        continue;
                    }

                    // Whole-answer syntaxes: the first visible character decides.
                    string trimmed = buffered.TrimStart();
                    if (trimmed.Length == 0)
                    {
                        if (final)
                        {
                            Emit(events, buffered);
                        }

                        return;
                    }

                    if (!final && IsMarkerStart(trimmed))
                    {
                        return; // perhaps the start of "[TOOL_CALLS]" or "<|python_tag|>": wait
                    }

                    char opener = _syntax == ToolCallSyntax.Llama3Json ? '{' : '[';
                    _state = trimmed[0] == opener || trimmed.StartsWith("[TOOL_CALLS]", StringComparison.Ordinal) || trimmed.StartsWith("<|python_tag|>", StringComparison.Ordinal)
                        ? State.WholeCalls
                        : State.Text;
                    continue;

                case State.Text when Open is null:
                    _buffer.Clear();
                    Emit(events, buffered);
                    return;

                case State.Text:
                    int at = buffered.IndexOf(Open, StringComparison.Ordinal);
                    if (_calls > 0 && string.IsNullOrWhiteSpace(at >= 0 ? buffered[..at] : buffered))
                    {
                        // Whitespace between and after calls is the syntax's, not content.
                        if (at < 0 && !final)
                        {
                            return;
                        }

                        _buffer.Remove(0, at >= 0 ? at : buffered.Length);
                        if (at < 0)
                        {
                            return;
                        }

                        _state = State.Call;
                        continue;
                    }

                    if (at >= 0)
                    {
                        Emit(events, buffered[..at]);
                        _buffer.Clear().Append(buffered, at, buffered.Length - at);
                        _state = State.Call;
                        continue;
                    }

                    int keep = final ? 0 : HeldBack(buffered, Open);
                    if (_calls > 0 && keep > 0 && string.IsNullOrWhiteSpace(buffered[..^keep]))
                    {
                        return; // whitespace, then perhaps the next call's marker
                    }

                    Emit(events, buffered[..^keep]);
                    _buffer.Clear().Append(buffered, buffered.Length - keep, keep);
                    return;

                case State.Call:
                    if (!TrySettleCall(buffered, events, final, out int consumed))
                    {
                        return;
                    }

                    _buffer.Remove(0, consumed);
                    _state = State.Text;
                    continue;

                case State.WholeCalls:
                    if (!final)
                    {
                        return;
                    }

                    _buffer.Clear();
                    if (!TryReadCallList(StripMarkers(buffered), out var calls))
                    {
                        Emit(events, buffered);
                        return;
                    }

                    foreach ((string name, string arguments) in calls)
                    {
                        AddCallEvents(events, name, arguments);
                    }

                    return;
            }
        }
    }

    /// <summary>Settles the call at the start of <paramref name="buffered"/> once it is closed (or at the end).</summary>
    private bool TrySettleCall(string buffered, List<ChatOutputEvent> events, bool final, out int consumed)
    {
        consumed = 0;
        if (_syntax == ToolCallSyntax.Hermes)
        {
            int close = buffered.IndexOf(HermesClose, StringComparison.Ordinal);
            if (_streamed is null && ArgumentsStart().Match(buffered, HermesOpen.Length) is { Success: true } start)
            {
                string name = JsonSerializer.Deserialize("\"" + start.Groups["name"].Value + "\"", ToolJsonContext.Default.String)!;
                _streamed = new StreamedCall(NewCallId(), _calls++, name, start.Index + start.Length);
                events.Add(new ToolCallStarted(_streamed.Index, _streamed.Id, name));
            }

            if (_streamed is { } call)
            {
                // Only the arguments' own characters are streamed: the scan stops where the JSON value ends.
                int end = call.Scan(buffered, close < 0 ? buffered.Length : close);
                if (end > call.Emitted)
                {
                    events.Add(new ToolCallArgumentsDelta(call.Index, buffered[call.Emitted..end]));
                    call.Emitted = end;
                }

                if (close < 0 && !final)
                {
                    return false;
                }

                AddCall(new ChatToolCall(call.Id, call.Name, buffered[call.Start..call.Emitted]));
                _streamed = null;
                consumed = close < 0 ? buffered.Length : close + HermesClose.Length;
                return true;
            }

            if (close < 0 && !final)
            {
                return false;
            }

            string body = close < 0 ? buffered[HermesOpen.Length..] : buffered[HermesOpen.Length..close];
            consumed = close < 0 ? buffered.Length : close + HermesClose.Length;
            if (TryReadCall(body, out string? callName, out string? arguments))
            {
                AddCallEvents(events, callName, arguments);
            }
            else
            {
                Emit(events, buffered[..consumed]);
            }

            return true;
        }

        // Phi-4-mini: functools[ … ] — a JSON array, settled when it parses (or at the end).
        string rest = buffered[Phi4Open.Length..];
        if (!final && !rest.TrimEnd().EndsWith(']'))
        {
            return false;
        }

        if (TryReadCallList(rest, out var calls))
        {
            foreach ((string name, string arguments) in calls)
            {
                AddCallEvents(events, name, arguments);
            }

            consumed = buffered.Length;
            return true;
        }

        if (!final)
        {
            return false; // a ']' inside an argument string: wait for more
        }

        Emit(events, buffered);
        consumed = buffered.Length;
        return true;
    }

    private void AddCallEvents(List<ChatOutputEvent> events, string name, string arguments)
    {
        string id = NewCallId();
        int index = _calls++;
        AddCall(new ChatToolCall(id, name, arguments));
        events.Add(new ToolCallStarted(index, id, name));
        events.Add(new ToolCallArgumentsDelta(index, arguments));
    }

    private void Emit(List<ChatOutputEvent> events, string text)
    {
        if (text.Length > 0)
        {
            AddContent(text);
            events.Add(new ContentDelta(text));
        }
    }

    /// <summary>How many characters at the end of <paramref name="text"/> could begin <paramref name="marker"/>.</summary>
    private static int HeldBack(string text, string marker)
    {
        for (int length = Math.Min(marker.Length - 1, text.Length); length > 0; length--)
        {
            if (text.AsSpan(text.Length - length).SequenceEqual(marker.AsSpan(0, length)))
            {
                return length;
            }
        }

        return 0;
    }

    private static bool IsMarkerStart(string text) =>
        text.Length < "<|python_tag|>".Length && ("[TOOL_CALLS]".StartsWith(text, StringComparison.Ordinal) || "<|python_tag|>".StartsWith(text, StringComparison.Ordinal));

    private static string StripMarkers(string text)
    {
        string t = text.Trim();
        foreach (string marker in (ReadOnlySpan<string>)["[TOOL_CALLS]", "<|python_tag|>"])
        {
            if (t.StartsWith(marker, StringComparison.Ordinal))
            {
                t = t[marker.Length..].TrimStart();
            }
        }

        return t;
    }

    /// <summary>Reads one <c>{"name": …, "arguments"|"parameters": …}</c> object.</summary>
    private static bool TryReadCall(string json, out string name, out string arguments)
    {
        name = arguments = string.Empty;
        try
        {
            using var document = JsonDocument.Parse(json);
            return TryReadCall(document.RootElement, out name, out arguments);
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static bool TryReadCall(JsonElement call, out string name, out string arguments)
    {
        name = arguments = string.Empty;
        if (call.ValueKind != JsonValueKind.Object
            || !call.TryGetProperty("name", out var nameValue) || nameValue.ValueKind != JsonValueKind.String)
        {
            return false;
        }

        name = nameValue.GetString()!;
        if (!call.TryGetProperty("arguments", out var args) && !call.TryGetProperty("parameters", out args))
        {
            arguments = "{}";
            return true;
        }

        // Some models write the arguments as a JSON string; OpenAI's field is that string either way.
        arguments = args.ValueKind == JsonValueKind.String ? args.GetString()! : args.GetRawText();
        return true;
    }

    /// <summary>A JSON array of calls, a single call object, or (Llama 3) calls joined by <c>;</c>.</summary>
    private static bool TryReadCallList(string text, out List<(string Name, string Arguments)> calls)
    {
        calls = [];
        string trimmed = text.Trim();
        try
        {
            if (trimmed.StartsWith('['))
            {
                using var document = JsonDocument.Parse(trimmed);
                foreach (JsonElement item in document.RootElement.EnumerateArray())
                {
                    if (!TryReadCall(item, out string name, out string arguments))
                    {
                        return false;
                    }

                    calls.Add((name, arguments));
                }

                return calls.Count > 0;
            }

            var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(trimmed), new JsonReaderOptions { AllowMultipleValues = true });
            while (true)
            {
                using var document = JsonDocument.ParseValue(ref reader);
                if (!TryReadCall(document.RootElement, out string name, out string arguments))
                {
                    return false;
                }

                calls.Add((name, arguments));
                // Skip the separator between calls (';' with spaces); anything else ends the list.
                int position = (int)reader.BytesConsumed;
                string rest = trimmed[Encoding.UTF8.GetCharCount(Encoding.UTF8.GetBytes(trimmed), 0, position)..].TrimStart();
                if (rest.Length == 0)
                {
                    return true;
                }

                if (rest[0] != ';')
                {
                    return false;
                }

                rest = rest[1..].TrimStart();
                if (rest.Length == 0)
                {
                    return true;
                }

                reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(rest), new JsonReaderOptions { AllowMultipleValues = true });
                trimmed = rest;
            }
        }
        catch (JsonException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    [GeneratedRegex("""\G\s*\{\s*"name"\s*:\s*"(?<name>(?:[^"\\]|\\.)*)"\s*,\s*"arguments"\s*:\s*(?=[\[{])""")]
    private static partial Regex ArgumentsStart();

    /// <summary>A call whose arguments (a JSON object or array) stream as they are written.</summary>
    private sealed class StreamedCall(string id, int index, string name, int start)
    {
        private int _scanned = start;
        private int _depth;
        private bool _inString;
        private bool _escape;
        private int? _end;

        public string Id { get; } = id;

        public int Index { get; } = index;

        public string Name { get; } = name;

        /// <summary>Where the arguments begin in the buffer.</summary>
        public int Start { get; } = start;

        /// <summary>How far the arguments were streamed.</summary>
        public int Emitted { get; set; } = start;

        /// <summary>Scans up to <paramref name="limit"/>; returns where the arguments end so far (their end once closed).</summary>
        public int Scan(string text, int limit)
        {
            for (; _end is null && _scanned < limit; _scanned++)
            {
                char c = text[_scanned];
                if (_inString)
                {
                    if (_escape)
                    {
                        _escape = false;
                    }
                    else if (c == '\\')
                    {
                        _escape = true;
                    }
                    else if (c == '"')
                    {
                        _inString = false;
                    }
                }
                else if (c == '"')
                {
                    _inString = true;
                }
                else if (c is '{' or '[')
                {
                    _depth++;
                }
                else if (c is '}' or ']' && --_depth == 0)
                {
                    _end = _scanned + 1;
                }
            }

            return _end ?? _scanned;
        }
    }
}
