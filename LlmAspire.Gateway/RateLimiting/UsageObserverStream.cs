using System.Buffers;
using System.Text.Json;
using LlmAspire.Gateway.Requests;

namespace LlmAspire.Gateway.RateLimiting;

/// <summary>
/// Passes a response through unchanged while looking for its OpenAI <c>usage</c>: in a JSON body (up to 1 MiB),
/// or in any <c>data:</c> event of a <c>text/event-stream</c> (the last one that has it wins); a Responses API event
/// carries it in its <c>response</c> (<c>response.completed</c>), and counts it as input and output tokens.
/// </summary>
internal sealed class UsageObserverStream(Stream inner, HttpResponse response) : ObservingWriteStream(inner)
{
    private const int MaxBuffered = 1024 * 1024;
    private static readonly byte[] s_usageMarker = "\"usage\""u8.ToArray();

    private enum Mode
    {
        Undecided,
        Json,
        Events,
        Ignored,
    }

    private readonly ArrayBufferWriter<byte> _buffer = new();
    private Mode _mode;

    /// <summary>prompt + completion tokens of the last usage seen, once <see cref="Complete"/> has run.</summary>
    public long? TotalTokens { get; private set; }

    /// <summary>Reads the usage of a JSON body; call after the response is written.</summary>
    public void Complete()
    {
        if (_mode == Mode.Json)
        {
            ReadUsage(_buffer.WrittenSpan);
        }
    }

    protected override void Observe(ReadOnlySpan<byte> data)
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
            case Mode.Json:
                if (_buffer.WrittenCount + data.Length > MaxBuffered)
                {
                    _mode = Mode.Ignored;
                    _buffer.Clear();
                    return;
                }

                _buffer.Write(data);
                break;
            case Mode.Events:
                while (!data.IsEmpty)
                {
                    var newline = data.IndexOf((byte)'\n');
                    if (newline < 0)
                    {
                        if (_buffer.WrittenCount + data.Length <= MaxBuffered)
                        {
                            _buffer.Write(data);
                        }

                        return;
                    }

                    if (_buffer.WrittenCount == 0)
                    {
                        ReadEventLine(data[..newline]);
                    }
                    else
                    {
                        _buffer.Write(data[..newline]);
                        ReadEventLine(_buffer.WrittenSpan);
                        _buffer.Clear();
                    }

                    data = data[(newline + 1)..];
                }

                break;
        }
    }

    private void ReadEventLine(ReadOnlySpan<byte> line)
    {
        if (line.StartsWith("data:"u8) && line.IndexOf(s_usageMarker) >= 0)
        {
            ReadUsage(line["data:"u8.Length..]);
        }
    }

    private void ReadUsage(ReadOnlySpan<byte> json)
    {
        try
        {
            var reader = new Utf8JsonReader(json.TrimEnd("\r"u8));
            using var document = JsonDocument.ParseValue(ref reader);
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Object
                && root.TryGetProperty("response", out var responseObject) && responseObject.ValueKind == JsonValueKind.Object)
            {
                root = responseObject;
            }

            if (root.ValueKind == JsonValueKind.Object
                && root.TryGetProperty("usage", out var usage)
                && usage.ValueKind == JsonValueKind.Object)
            {
                if (usage.TryGetProperty("total_tokens", out var total) && total.TryGetInt64(out var totalTokens))
                {
                    TotalTokens = totalTokens;
                }
                else
                {
                    var prompt = (usage.TryGetProperty("prompt_tokens", out var p) || usage.TryGetProperty("input_tokens", out p)) && p.TryGetInt64(out var pt) ? pt : 0;
                    var completion = (usage.TryGetProperty("completion_tokens", out var c) || usage.TryGetProperty("output_tokens", out c)) && c.TryGetInt64(out var ct) ? ct : 0;
                    TotalTokens = prompt + completion;
                }
            }
        }
        catch (JsonException)
        {
            // Not JSON after all: no usage from this event.
        }
    }
}
