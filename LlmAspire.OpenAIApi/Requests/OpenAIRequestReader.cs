using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace LlmAspire.OpenAIApi.Requests;

/// <summary>
/// Reads an OpenAI request body: JSON content type, at most a given size, checked by <see cref="OpenAIJsonBody"/>,
/// then deserialized. Every way it can be wrong is answered with a status (415, 413, 400) and an error.
/// </summary>
public static class OpenAIRequestReader
{
    /// <summary>The request, or the status and error to answer instead.</summary>
    public readonly record struct Result<T>(T? Request, int StatusCode, OpenAIError? Error)
        where T : class;

    /// <summary>The body's bytes, or the status and error to answer instead.</summary>
    public readonly record struct BodyResult(ReadOnlyMemory<byte> Body, int StatusCode, OpenAIError? Error);

    /// <summary>Reads and checks the body of <paramref name="request"/> as a <typeparamref name="T"/>.</summary>
    public static async Task<Result<T>> ReadAsync<T>(HttpRequest request, JsonTypeInfo<T> typeInfo, long maxBodyBytes, CancellationToken cancellationToken)
        where T : class
    {
        var read = await ReadBodyAsync(request, maxBodyBytes, cancellationToken);
        return read.Error is not null ? new(null, read.StatusCode, read.Error) : Parse(read.Body, typeInfo);
    }

    /// <summary>
    /// Reads the body of <paramref name="request"/> whole, without checking its content: 415 when it is not sent as
    /// JSON, 413 beyond <paramref name="maxBodyBytes"/> (declared or sent, chunked included).
    /// </summary>
    public static async Task<BodyResult> ReadBodyAsync(HttpRequest request, long maxBodyBytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!request.HasJsonContentType())
        {
            return new(default, StatusCodes.Status415UnsupportedMediaType, OpenAIError.UnsupportedMediaType(request.ContentType));
        }

        if (request.ContentLength > maxBodyBytes)
        {
            return TooLarge(maxBodyBytes);
        }

        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            // Our own bound below answers an over-long chunked body with the OpenAI error, not Kestrel's bare 413.
            limit.MaxRequestBodySize = null;
        }

        // A declared length is read into an array of that size and one byte more, the one that sees the end: the body
        // stays in memory as long as its request (the gateway replays it on a retry), so it is not held in 8 KiB.
        var declared = request.ContentLength;
        var buffer = new ArrayBufferWriter<byte>(declared is { } length ? (int)length + 1 : UndeclaredStepBytes);
        while (true)
        {
            var memory = buffer.GetMemory(SizeHint(declared, buffer.WrittenCount));
            var read = await request.Body.ReadAsync(memory, cancellationToken);
            if (read == 0)
            {
                break;
            }

            buffer.Advance(read);
            if (buffer.WrittenCount > maxBodyBytes)
            {
                return TooLarge(maxBodyBytes);
            }
        }

        return new(buffer.WrittenMemory, StatusCodes.Status200OK, null);
    }

    /// <summary>Checks and deserializes a body already in memory.</summary>
    public static Result<T> Parse<T>(ReadOnlyMemory<byte> body, JsonTypeInfo<T> typeInfo)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(typeInfo);
        if (OpenAIJsonBody.Validate(body.Span) is { } invalid)
        {
            return new(null, StatusCodes.Status400BadRequest, invalid);
        }

        try
        {
            var value = JsonSerializer.Deserialize(OpenAIJsonBody.WithoutByteOrderMark(body).Span, typeInfo);
            return value is null
                ? new(null, StatusCodes.Status400BadRequest, OpenAIError.Invalid("The request body must be a JSON object.", null, "invalid_json"))
                : new(value, StatusCodes.Status200OK, null);
        }
        catch (JsonException ex)
        {
            var param = ex.Path is { Length: > 2 } path && path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : null;
            return new(null, StatusCodes.Status400BadRequest, OpenAIError.InvalidJson(param));
        }
    }

    /// <summary>The step in which a body without a declared length is read.</summary>
    private const int UndeclaredStepBytes = 8192;

    // What is left of a declared length; then the one spare byte; beyond it (a body longer than declared) and when
    // nothing was declared, steps of UndeclaredStepBytes.
    private static int SizeHint(long? declared, int written) => declared switch
    {
        { } length when written < length => (int)(length - written),
        { } length when written == length => 1,
        _ => UndeclaredStepBytes,
    };

    private static BodyResult TooLarge(long maxBodyBytes) =>
        new(default, StatusCodes.Status413PayloadTooLarge, OpenAIError.RequestTooLarge(maxBodyBytes));
}
