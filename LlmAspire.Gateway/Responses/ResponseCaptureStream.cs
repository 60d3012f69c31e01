using System.Buffers;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace LlmAspire.Gateway.Responses;

/// <summary>
/// Sits in front of a <c>/v1/responses</c> answer and finds the response object in it, so the gateway can store it
/// before the client can refer to it:
/// <list type="bullet">
/// <item>JSON: the body (a few KiB; the model server sends it at once) is held back up to the limit and written after
/// <c>onCompleted</c> ran; a bigger body goes on as it comes and is only identified.</item>
/// <item>Server-sent events: every byte goes on as it comes; the write that ends the <c>data:</c> line of the
/// <c>response.completed</c> (or <c>response.incomplete</c>) event waits for <c>onCompleted</c>, so the blank line at
/// which a client acts on that event reaches it only once its response is stored.</item>
/// </list>
/// Anything else passes through untouched.
/// </summary>
internal sealed class ResponseCaptureStream(Stream inner, HttpResponse response, int limit, Func<ReadOnlyMemory<byte>, Task> onCompleted) : Stream
{
    private static readonly byte[] s_responseMarker = "\"response\""u8.ToArray();

    private readonly ArrayBufferWriter<byte> _buffer = new();
    private Mode _mode;
    private bool _lineTooLong;

    private enum Mode
    {
        Undecided,
        Json,
        JsonSpilled,
        Events,
        Ignored,
    }

    /// <summary>The response's id, once seen (also when it was too big to keep).</summary>
    public string? ResponseId { get; private set; }

    /// <summary>Whether the response (or one of its events) was bigger than the limit, so it was not kept.</summary>
    public bool TooLarge { get; private set; }

    /// <summary>Whether a complete response object was found and handed to <c>onCompleted</c>.</summary>
    public bool Completed { get; private set; }

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    /// <summary>Ends a JSON answer: hands the held body to <c>onCompleted</c> when it is a response object, then writes it.</summary>
    public async Task FinishAsync(CancellationToken cancellationToken)
    {
        if (_mode != Mode.Json)
        {
            return;
        }

        _mode = Mode.Ignored;
        var body = _buffer.WrittenMemory;
        if (ResponseObject(body.Span) is { } id)
        {
            ResponseId = id;
            Completed = true;
            await onCompleted(body);
        }

        await inner.WriteAsync(body, cancellationToken);
    }

    public override void Write(byte[] buffer, int offset, int count) =>
        WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_mode == Mode.Undecided)
        {
            var contentType = response.ContentType ?? string.Empty;
            _mode = contentType.StartsWith("text/event-stream", StringComparison.OrdinalIgnoreCase) ? Mode.Events
                : contentType.Contains("json", StringComparison.OrdinalIgnoreCase) ? Mode.Json
                : Mode.Ignored;
        }

        switch (_mode)
        {
            case Mode.Json when _buffer.WrittenCount + buffer.Length <= limit:
                _buffer.Write(buffer.Span);
                return;
            case Mode.Json:
                TooLarge = true;
                ResponseId = LeadingId(_buffer.WrittenSpan);
                _mode = Mode.JsonSpilled;
                await inner.WriteAsync(_buffer.WrittenMemory, cancellationToken);
                _buffer.Clear();
                break;
            case Mode.Events:
                if (ReadEvents(buffer.Span) is { } completed)
                {
                    Completed = true;
                    await onCompleted(completed);
                }

                break;
        }

        await inner.WriteAsync(buffer, cancellationToken);
    }

    public override void Flush()
    {
        if (_mode != Mode.Json)
        {
            inner.Flush();
        }
    }

    public override Task FlushAsync(CancellationToken cancellationToken) =>
        _mode == Mode.Json ? Task.CompletedTask : inner.FlushAsync(cancellationToken);

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    /// <summary>Reads the <c>data:</c> lines these bytes complete; the response of a final event, when one ends here.</summary>
    private byte[]? ReadEvents(ReadOnlySpan<byte> data)
    {
        byte[]? completed = null;
        while (!data.IsEmpty)
        {
            var newline = data.IndexOf((byte)'\n');
            var piece = newline < 0 ? data : data[..newline];
            if (!_lineTooLong && _buffer.WrittenCount + piece.Length <= limit)
            {
                _buffer.Write(piece);
            }
            else if (!_lineTooLong)
            {
                _lineTooLong = true;
                TooLarge = true;
                _buffer.Clear();
            }

            if (newline < 0)
            {
                break;
            }

            if (!_lineTooLong)
            {
                completed = ReadEventLine(_buffer.WrittenSpan) ?? completed;
            }

            _lineTooLong = false;
            _buffer.Clear();
            data = data[(newline + 1)..];
        }

        return completed;
    }

    private byte[]? ReadEventLine(ReadOnlySpan<byte> line)
    {
        line = line.TrimEnd((byte)'\r');
        if (!line.StartsWith("data:"u8) || line.IndexOf(s_responseMarker) < 0)
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(line["data:"u8.Length..].ToArray());
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("response", out var responseObject)
                || ResponseObject(responseObject) is not { } id)
            {
                return null;
            }

            ResponseId = id;
            return root.TryGetProperty("type", out var type) && (type.ValueEquals("response.completed") || type.ValueEquals("response.incomplete"))
                ? JsonMarshal.GetRawUtf8Value(responseObject).ToArray()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The id of <paramref name="json"/> when it is a response object (<c>"object":"response"</c> with an id).</summary>
    private static string? ResponseObject(ReadOnlySpan<byte> json)
    {
        try
        {
            var reader = new Utf8JsonReader(json);
            using var document = JsonDocument.ParseValue(ref reader);
            return ResponseObject(document.RootElement);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string? ResponseObject(JsonElement element) =>
        element.ValueKind == JsonValueKind.Object
        && element.TryGetProperty("object", out var kind) && kind.ValueEquals("response")
        && element.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String
            ? id.GetString()
            : null;

    /// <summary>The top-level <c>id</c> of the start of a JSON object (OpenAI writes it first); null when the start does not show it.</summary>
    private static string? LeadingId(ReadOnlySpan<byte> start)
    {
        var reader = new Utf8JsonReader(start, isFinalBlock: false, default);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isId = reader.ValueTextEquals("id"u8);
                if (!reader.Read())
                {
                    return null;
                }

                if (isId)
                {
                    return reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                }

                if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray && !reader.TrySkip())
                {
                    return null;
                }
            }
        }
        catch (JsonException)
        {
            // Not JSON after all.
        }

        return null;
    }
}
