namespace LlmAspire.Gateway.Caching;

/// <summary>
/// A streamed response while it is being forwarded: its status, its events so far, and whether it ended well.
/// The request that forwards it records into it; identical requests that arrive meanwhile follow it (from its first
/// byte) instead of asking a model server again; when it completes it is what the cache stores.
/// </summary>
internal sealed class LiveStream
{
    private readonly Lock _gate = new();
    private readonly List<byte[]> _chunks = [];
    private readonly TaskCompletionSource<(int StatusCode, string? ContentType)> _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _completed;
    private bool _cutShort;

    /// <summary>Bytes recorded so far.</summary>
    public long Length { get; private set; }

    /// <summary>The response's status and content type once its first byte is sent; (0, null) when it ended with none.</summary>
    public Task<(int StatusCode, string? ContentType)> Started => _started.Task;

    public void Start(int statusCode, string? contentType) => _started.TrySetResult((statusCode, contentType));

    public void Append(ReadOnlySpan<byte> data)
    {
        TaskCompletionSource changed;
        lock (_gate)
        {
            _chunks.Add(data.ToArray());
            Length += data.Length;
            changed = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        changed.TrySetResult();
    }

    /// <summary>Ends the recording; <paramref name="cutShort"/> when the forwarding request failed or was aborted midway.</summary>
    public void Complete(bool cutShort)
    {
        TaskCompletionSource changed;
        lock (_gate)
        {
            _completed = true;
            _cutShort = cutShort;
            changed = _changed;
        }

        _started.TrySetResult((0, null));
        changed.TrySetResult();
    }

    /// <summary>Everything recorded, in one array.</summary>
    public byte[] ToArray()
    {
        lock (_gate)
        {
            var all = new byte[Length];
            var offset = 0;
            foreach (var chunk in _chunks)
            {
                chunk.CopyTo(all, offset);
                offset += chunk.Length;
            }

            return all;
        }
    }

    /// <summary>Copies the recording to <paramref name="destination"/> as it grows, flushing each batch; false when it was cut short.</summary>
    public async Task<bool> CopyToAsync(Stream destination, CancellationToken cancellationToken)
    {
        var next = 0;
        while (true)
        {
            byte[][] pending;
            bool completed;
            bool cutShort;
            Task changed;
            lock (_gate)
            {
                pending = [.. _chunks.Skip(next)];
                next = _chunks.Count;
                completed = _completed;
                cutShort = _cutShort;
                changed = _changed.Task;
            }

            foreach (var chunk in pending)
            {
                await destination.WriteAsync(chunk, cancellationToken);
            }

            if (pending.Length > 0)
            {
                await destination.FlushAsync(cancellationToken);
            }

            if (completed)
            {
                return !cutShort;
            }

            await changed.WaitAsync(cancellationToken);
        }
    }
}
