using System.Text;
using LlmAspire.OpenAIApi.Errors;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace LlmAspire.Gateway.Health;

/// <summary>
/// A model server's response body as the proxy reads it, each read bounded by <see cref="TimeoutOptions.StreamIdle"/>
/// and by the server being declared unreachable. A failure before any byte was passed on is thrown, so the request is
/// retried on another server as when no headers came. After that, a plain body fails (the client's connection is
/// aborted), while a stream (<c>text/event-stream</c>) ends cleanly with an error event in OpenAI's shape: events are
/// passed on whole, a partial event held back, so the error event never lands inside one. The failure is then recorded
/// on the request as a forwarding error, which passive health counts against the server.
/// </summary>
internal sealed partial class WatchedResponseStream : Stream
{

    private readonly Stream _inner;
    private readonly bool _events;
    private readonly TimeSpan _idle;
    private readonly CancellationToken _unreachable;
    private readonly HttpContext _context;
    private readonly ILogger _logger;

    // Events: bytes [_start, _ready) may be passed on, [_ready, _end) are an event not yet complete.
    private byte[] _buffer = [];
    private int _start;
    private int _ready;
    private int _end;
    private bool _ended;
    private long _passedOn;

    public WatchedResponseStream(Stream inner, bool events, TimeSpan idle, CancellationToken unreachable, HttpContext context, ILogger logger)
    {
        _inner = inner;
        _events = events;
        _idle = idle;
        _unreachable = unreachable;
        _context = context;
        _logger = logger;
        if (events)
        {
            _buffer = new byte[4096];
        }
    }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (!_events)
        {
            var read = await ReadUpstreamAsync(buffer, cancellationToken);
            _passedOn += read;
            return read;
        }

        while (_ready == _start)
        {
            if (_ended)
            {
                return 0;
            }

            await FillAsync(cancellationToken);
        }

        var count = Math.Min(buffer.Length, _ready - _start);
        _buffer.AsMemory(_start, count).CopyTo(buffer);
        _start += count;
        _passedOn += count;
        return count;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count).GetAwaiter().GetResult();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _inner.Dispose();
        }

        base.Dispose(disposing);
    }

    /// <summary>Reads more of the stream's events; ends it with an error event when the server failed after events were passed on.</summary>
    private async Task FillAsync(CancellationToken cancellationToken)
    {
        if (_start > 0)
        {
            // Keep the held-back partial event at the front.
            _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
            (_ready, _end, _start) = (_ready - _start, _end - _start, 0);
        }

        if (_end == _buffer.Length)
        {
            Array.Resize(ref _buffer, _buffer.Length * 2);
        }

        int read;
        try
        {
            read = await ReadUpstreamAsync(_buffer.AsMemory(_end), cancellationToken);
        }
        catch (UpstreamBodyException failure) when (_passedOn > 0)
        {
            EndWithError(failure);
            return;
        }

        if (read == 0)
        {
            // The server ended the stream: pass on whatever it sent.
            _ready = _end;
            _ended = true;
            return;
        }

        // An event ends with a blank line: "\n\n", or "\r\n\r\n" (which ends "\n\r\n"); one may span two reads.
        var scanFrom = Math.Max(_ready, _end - 2);
        _end += read;
        var scanned = _buffer.AsSpan(scanFrom, _end - scanFrom);
        var last = Math.Max(EndOf(scanned, "\n\n"u8), EndOf(scanned, "\n\r\n"u8));
        if (last >= 0)
        {
            _ready = scanFrom + last;
        }
    }

    /// <summary>The position just after the last <paramref name="separator"/> in <paramref name="span"/>; -1 if none.</summary>
    private static int EndOf(ReadOnlySpan<byte> span, ReadOnlySpan<byte> separator)
    {
        var index = span.LastIndexOf(separator);
        return index < 0 ? -1 : index + separator.Length;
    }

    private void EndWithError(UpstreamBodyException failure)
    {
        var error = UpstreamErrors.StreamEnded(failure.Failure, _idle);
        var server = _context.Features.Get<IReverseProxyFeature>()?.ProxiedDestination is { } destination
            ? Routing.DestinationMetadata.ServerName(destination)
            : "(unknown)";
        LogStreamEnded(_logger, server, failure.Failure, _end - _ready);

        var payload = Encoding.UTF8.GetBytes($"data: {OpenAIErrorResults.ToJson(error)}\n\n");
        _buffer = payload;
        (_start, _ready, _end) = (0, payload.Length, payload.Length);
        _ended = true;
        _context.Features.Set<IForwarderErrorFeature>(new UpstreamFailureFeature(failure));
    }

    /// <summary>One read of the server's body, bounded by the idle timeout and the server's reachability.</summary>
    private async ValueTask<int> ReadUpstreamAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        using var read = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _unreachable);
        read.CancelAfter(_idle);
        try
        {
            return await _inner.ReadAsync(buffer, read.Token);
        }
        catch (Exception exception) when (exception is OperationCanceledException or IOException or HttpRequestException
            && !cancellationToken.IsCancellationRequested)
        {
            var failure = _unreachable.IsCancellationRequested ? UpstreamFailure.Unreachable
                : read.IsCancellationRequested ? UpstreamFailure.Idle
                : UpstreamFailure.Disconnected;
            throw new UpstreamBodyException(failure, exception);
        }
    }

    [LoggerMessage(LogLevel.Warning, "A stream from {Server} ended with an error event: {Failure} ({HeldBack} bytes of a partial event dropped).")]
    private static partial void LogStreamEnded(ILogger logger, string server, UpstreamFailure failure, int heldBack);

    /// <summary>The forwarding error a stream ended by the gateway leaves on its request, for passive health.</summary>
    private sealed class UpstreamFailureFeature(UpstreamBodyException exception) : IForwarderErrorFeature
    {
        public ForwarderError Error => ForwarderError.ResponseBodyDestination;

        public Exception Exception => exception;
    }
}
