namespace LlmAspire.Gateway.Caching;

/// <summary>
/// Holds a non-streamed response body back, up to a limit, so it can be stored before it is sent; a body that
/// outgrows the limit spills: what was held and everything after goes straight to <paramref name="inner"/>.
/// </summary>
internal sealed class CaptureStream(Stream inner, int limit) : Stream
{
    private readonly MemoryStream _held = new();

    /// <summary>Whether the body outgrew the limit and went to the client as it came.</summary>
    public bool Spilled { get; private set; }

    /// <summary>The held body (empty once spilled).</summary>
    public ReadOnlyMemory<byte> Captured => _held.GetBuffer().AsMemory(0, (int)_held.Length);

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (!Spilled && _held.Length + buffer.Length <= limit)
        {
            _held.Write(buffer);
            return;
        }

        if (!Spilled)
        {
            Spilled = true;
            inner.Write(Captured.Span);
            _held.SetLength(0);
        }

        inner.Write(buffer);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (!Spilled && _held.Length + buffer.Length <= limit)
        {
            _held.Write(buffer.Span);
            return;
        }

        if (!Spilled)
        {
            Spilled = true;
            await inner.WriteAsync(Captured, cancellationToken);
            _held.SetLength(0);
        }

        await inner.WriteAsync(buffer, cancellationToken);
    }

    public override void Flush()
    {
        if (Spilled)
        {
            inner.Flush();
        }
    }

    public override Task FlushAsync(CancellationToken cancellationToken) =>
        Spilled ? inner.FlushAsync(cancellationToken) : Task.CompletedTask;

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _held.Dispose();
        }

        base.Dispose(disposing);
    }
}
