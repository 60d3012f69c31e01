using System.Buffers;
using System.Text.Json;
using System.Text.Unicode;

namespace LlmAspire.OpenAIApi.Requests;

/// <summary>
/// The checks every JSON request body passes before anything reads a field of it: UTF-8 throughout (no lone
/// surrogates, encoded or escaped), well-formed JSON nested no deeper than <see cref="MaxDepth"/>, one top-level
/// object and nothing after it. A body that passes can be deserialized and its strings read without the reader
/// throwing; one that fails gets the same 400 from the gateway and the model server.
/// </summary>
public static class OpenAIJsonBody
{
    /// <summary>The deepest nesting accepted (System.Text.Json's default); no OpenAI request comes near it.</summary>
    public const int MaxDepth = 64;

    private static readonly byte[] s_byteOrderMark = [0xEF, 0xBB, 0xBF];

    /// <summary>The reader options every parse of a request body uses.</summary>
    public static JsonReaderOptions ReaderOptions { get; } = new() { MaxDepth = MaxDepth };

    /// <summary>The body without a leading UTF-8 byte-order mark, which JSON parsers may ignore (RFC 8259 §8.1) and this one does.</summary>
    public static ReadOnlyMemory<byte> WithoutByteOrderMark(ReadOnlyMemory<byte> body) =>
        body.Span.StartsWith(s_byteOrderMark) ? body[s_byteOrderMark.Length..] : body;

    /// <summary>Null when <paramref name="body"/> (without its byte-order mark) is a valid request body; else why not.</summary>
    public static OpenAIError? Validate(ReadOnlySpan<byte> body)
    {
        if (body.StartsWith(s_byteOrderMark))
        {
            body = body[s_byteOrderMark.Length..];
        }

        if (body.IsEmpty || body.Trim(" \t\r\n"u8).IsEmpty)
        {
            return OpenAIError.Invalid("The request body is empty: send a JSON object.", null, "invalid_json");
        }

        if (!Utf8.IsValid(body))
        {
            return OpenAIError.Invalid("The request body is not valid UTF-8 (e.g. it holds an encoded lone surrogate).", null, "invalid_encoding");
        }

        var reader = new Utf8JsonReader(body, ReaderOptions);
        char[]? scratch = null;
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return OpenAIError.Invalid("The request body must be a JSON object.", null, "invalid_json");
            }

            while (reader.Read())
            {
                if (reader.TokenType is JsonTokenType.String or JsonTokenType.PropertyName && reader.ValueIsEscaped)
                {
                    // Unescaping is where a lone surrogate written as \ud800 fails; do it once here, not in every reader.
                    var length = reader.HasValueSequence ? checked((int)reader.ValueSequence.Length) : reader.ValueSpan.Length;
                    if (scratch is null || scratch.Length < length)
                    {
                        if (scratch is not null)
                        {
                            ArrayPool<char>.Shared.Return(scratch);
                        }

                        scratch = ArrayPool<char>.Shared.Rent(length);
                    }

                    reader.CopyString(scratch);
                }
            }

            return null;
        }
        catch (JsonException)
        {
            return OpenAIError.InvalidJson(null);
        }
        catch (InvalidOperationException)
        {
            return OpenAIError.Invalid("The request body holds a string that is not valid Unicode (e.g. an escaped lone surrogate).", null, "invalid_encoding");
        }
        finally
        {
            if (scratch is not null)
            {
                ArrayPool<char>.Shared.Return(scratch);
            }
        }
    }
}
