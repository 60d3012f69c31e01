using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using Microsoft.Extensions.Caching.Hybrid;

namespace LlmAspire.Gateway.Caching;

/// <summary>
/// The L2 form of a <see cref="CachedResponse"/>: version byte, status (int32), created (Unix ms, int64),
/// content type (length-prefixed UTF-8), body (length-prefixed bytes). Little-endian.
/// </summary>
internal sealed class CachedResponseSerializer : IHybridCacheSerializer<CachedResponse>
{
    private const byte Version = 1;

    public void Serialize(CachedResponse value, IBufferWriter<byte> target)
    {
        ArgumentNullException.ThrowIfNull(value);
        ArgumentNullException.ThrowIfNull(target);
        var contentType = Encoding.UTF8.GetBytes(value.ContentType ?? string.Empty);
        var span = target.GetSpan(1 + 4 + 8 + 4 + contentType.Length + 4);
        span[0] = Version;
        BinaryPrimitives.WriteInt32LittleEndian(span[1..], value.StatusCode);
        BinaryPrimitives.WriteInt64LittleEndian(span[5..], value.CreatedAt.ToUnixTimeMilliseconds());
        BinaryPrimitives.WriteInt32LittleEndian(span[13..], contentType.Length);
        contentType.CopyTo(span[17..]);
        BinaryPrimitives.WriteInt32LittleEndian(span[(17 + contentType.Length)..], value.Body.Length);
        target.Advance(17 + contentType.Length + 4);
        target.Write(value.Body.Span);
    }

    public CachedResponse Deserialize(ReadOnlySequence<byte> source)
    {
        var reader = new SequenceReader<byte>(source);
        if (!reader.TryRead(out var version) || version != Version
            || !reader.TryReadLittleEndian(out int statusCode)
            || !reader.TryReadLittleEndian(out long createdMs)
            || !reader.TryReadLittleEndian(out int contentTypeLength)
            || contentTypeLength < 0 || reader.Remaining < contentTypeLength)
        {
            throw new InvalidDataException("Not a cached response of this gateway version.");
        }

        var contentType = Encoding.UTF8.GetString(source.Slice(reader.Position, contentTypeLength));
        reader.Advance(contentTypeLength);
        if (!reader.TryReadLittleEndian(out int bodyLength) || bodyLength < 0 || reader.Remaining != bodyLength)
        {
            throw new InvalidDataException("A cached response's body is cut short.");
        }

        var body = source.Slice(reader.Position, bodyLength).ToArray();
        return new CachedResponse(statusCode, contentType.Length == 0 ? null : contentType, body, DateTimeOffset.FromUnixTimeMilliseconds(createdMs));
    }
}
