using System.ComponentModel;

namespace LlmAspire.Gateway.Caching;

/// <summary>
/// A model server's 200 answer as the cache keeps it: the JSON body, or the complete SSE stream's bytes (every
/// event as sent, through <c>data: [DONE]</c>). Immutable, so HybridCache hands out the L1 instance as is.
/// </summary>
[ImmutableObject(true)]
public sealed class CachedResponse(int statusCode, string? contentType, ReadOnlyMemory<byte> body, DateTimeOffset createdAt)
{
    /// <summary>The upstream status (200 for stored entries).</summary>
    public int StatusCode { get; } = statusCode;

    /// <summary>The upstream <c>Content-Type</c>.</summary>
    public string? ContentType { get; } = contentType;

    /// <summary>The body.</summary>
    public ReadOnlyMemory<byte> Body { get; } = body;

    /// <summary>When the model server answered (for <c>Age</c>).</summary>
    public DateTimeOffset CreatedAt { get; } = createdAt;

    /// <summary>Whether the body is a <c>text/event-stream</c>.</summary>
    public bool IsEventStream => ContentType?.StartsWith("text/event-stream", StringComparison.OrdinalIgnoreCase) == true;

    /// <summary>Whether an event stream's bytes end with the <c>data: [DONE]</c> event (a stream cut short does not).</summary>
    public static bool EndsWithDone(ReadOnlySpan<byte> events) =>
        events.TrimEnd("\r\n "u8).EndsWith("data: [DONE]"u8);
}
