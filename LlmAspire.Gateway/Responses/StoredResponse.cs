using System.Buffers;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace LlmAspire.Gateway.Responses;

/// <summary>
/// One stored response: the response object as the model server answered it and the whole conversation that led to
/// it as input items (the earlier turns and this request's input; never <c>instructions</c>, which OpenAI does not
/// carry over either). Or, for a response too big to store, only that fact and its size, so a later reference to it
/// can say why it is missing. Serialized as <c>{"response":{…},"input":[…]}</c> or <c>{"too_large":N}</c>.
/// </summary>
internal sealed class StoredResponse
{
    private StoredResponse(ReadOnlyMemory<byte> response, ReadOnlyMemory<byte> input, long? tooLargeBytes)
    {
        Response = response;
        Input = input;
        TooLargeBytes = tooLargeBytes;
    }

    /// <summary>The response object's JSON; empty when <see cref="TooLargeBytes"/> is set.</summary>
    public ReadOnlyMemory<byte> Response { get; }

    /// <summary>The input items' JSON array; empty when <see cref="TooLargeBytes"/> is set.</summary>
    public ReadOnlyMemory<byte> Input { get; }

    /// <summary>For a response not stored because it exceeded the limit, its size (at least); null for a stored one.</summary>
    public long? TooLargeBytes { get; }

    /// <summary>A stored response.</summary>
    public static StoredResponse Create(ReadOnlyMemory<byte> response, ReadOnlyMemory<byte> input) => new(response, input, null);

    /// <summary>The marker of a response of <paramref name="bytes"/> bytes that was not stored.</summary>
    public static StoredResponse TooLarge(long bytes) => new(ReadOnlyMemory<byte>.Empty, ReadOnlyMemory<byte>.Empty, bytes);

    /// <summary>The entry's JSON.</summary>
    public byte[] Serialize()
    {
        var buffer = new ArrayBufferWriter<byte>(Response.Length + Input.Length + 32);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            if (TooLargeBytes is { } bytes)
            {
                writer.WriteNumber("too_large", bytes);
            }
            else
            {
                writer.WritePropertyName("response");
                writer.WriteRawValue(Response.Span, skipInputValidation: true);
                writer.WritePropertyName("input");
                writer.WriteRawValue(Input.Span, skipInputValidation: true);
            }

            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Reads what <see cref="Serialize"/> wrote; null for anything else (an entry of another version).</summary>
    public static StoredResponse? Deserialize(ReadOnlyMemory<byte> json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return null;
            }

            if (root.TryGetProperty("too_large", out var tooLarge) && tooLarge.TryGetInt64(out var bytes))
            {
                return TooLarge(bytes);
            }

            return root.TryGetProperty("response", out var response) && response.ValueKind == JsonValueKind.Object
                && root.TryGetProperty("input", out var input) && input.ValueKind == JsonValueKind.Array
                ? Create(RawBytes(response), RawBytes(input))
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static byte[] RawBytes(JsonElement element) => JsonMarshal.GetRawUtf8Value(element).ToArray();
}
