using Microsoft.Extensions.Options;

namespace LlmAspire.ModelServer.Hosting;

/// <summary>
/// Runs generations one at a time, with at most <see cref="ModelServerOptions.MaxQueue"/> requests waiting
/// (first come, first served). A request that finds the queue full is refused at once rather than queued
/// without bound; a waiting request whose client goes away leaves the queue.
/// </summary>
internal sealed class GenerationQueue : IDisposable
{
    private const int Running = 1;

    private readonly SemaphoreSlim _gate = new(Running, Running);
    private readonly int _capacity;
    private readonly ModelServerMetrics _metrics;
    private int _admitted;
    private volatile bool _closed;

    public GenerationQueue(IOptions<ModelServerOptions> options, ModelServerMetrics metrics)
    {
        _capacity = Running + options.Value.MaxQueue;
        _metrics = metrics;
    }

    /// <summary>True once the server is shutting down.</summary>
    public bool IsClosed => _closed;

    /// <summary>Requests waiting or running now.</summary>
    public int Admitted => Volatile.Read(ref _admitted);

    /// <summary>Waits for the engine; null when the queue is full or closed. Dispose the lease to let the next request in.</summary>
    public async ValueTask<IDisposable?> TryEnterAsync(CancellationToken cancellationToken)
    {
        if (_closed)
        {
            return null;
        }

        if (Interlocked.Increment(ref _admitted) > _capacity)
        {
            Interlocked.Decrement(ref _admitted);
            return null;
        }

        _metrics.Waiting(1);
        try
        {
            await _gate.WaitAsync(cancellationToken);
        }
        catch
        {
            Interlocked.Decrement(ref _admitted);
            throw;
        }
        finally
        {
            _metrics.Waiting(-1);
        }

        if (_closed)
        {
            Release();
            return null;
        }

        return new Lease(this);
    }

    /// <summary>Refuses new requests and waits up to <paramref name="timeout"/> for the running one to finish.</summary>
    public bool Close(TimeSpan timeout)
    {
        _closed = true;
        return _gate.Wait(timeout);
    }

    public void Dispose() => _gate.Dispose();

    private void Release()
    {
        _gate.Release();
        Interlocked.Decrement(ref _admitted);
    }

    private sealed class Lease(GenerationQueue queue) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                queue.Release();
            }
        }
    }
}
