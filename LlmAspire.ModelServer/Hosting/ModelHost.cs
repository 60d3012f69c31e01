using System.Diagnostics.CodeAnalysis;
using LlmAspire.Inference;

namespace LlmAspire.ModelServer.Hosting;

/// <summary>
/// The one owner of the process's <see cref="LanguageModel"/>: <see cref="ModelLoader"/> hands it over when
/// loaded, request handlers borrow it, and it is disposed when the host is, after the generations it runs end
/// (the model's drain is awaited, bounded by <see cref="DrainTimeout"/>). When the host begins to stop,
/// <see cref="BeginDrain"/> refuses new requests at once and <see cref="DrainAsync"/> waits, within the grace period,
/// until every generation response admitted before has been written to its end (<see cref="TrackResponse"/>).
/// </summary>
internal sealed partial class ModelHost(TimeProvider timeProvider, ILogger<ModelHost> logger) : IAsyncDisposable, IDisposable
{
    /// <summary>How long disposal waits for running and waiting generations to end.</summary>
    public static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(10);

    private readonly Lock _lock = new();
    private readonly TaskCompletionSource _responsesEnded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private LanguageModel? _model;
    private volatile ModelStatus _status = ModelStatus.Loading;
    private volatile bool _draining;
    private int _responses;

    public ModelStatus Status => _status;

    /// <summary>Why loading failed, when <see cref="Status"/> is <see cref="ModelStatus.Failed"/>.</summary>
    public string? FailureReason { get; private set; }

    /// <summary>When the model became ready, in Unix seconds: the <c>created</c> of its model card.</summary>
    public long ReadySince { get; private set; }

    public bool TryGetModel([NotNullWhen(true)] out LanguageModel? model)
    {
        model = _status == ModelStatus.Ready ? _model : null;
        return model is not null;
    }

    public void SetReady(LanguageModel model)
    {
        lock (_lock)
        {
            if (_status == ModelStatus.Stopped)
            {
                model.Dispose();
                return;
            }

            _model = model;
            ReadySince = timeProvider.GetUtcNow().ToUnixTimeSeconds();
            _status = _draining ? ModelStatus.Draining : ModelStatus.Ready;
        }
    }

    /// <summary>Generation responses admitted and not yet ended.</summary>
    public int ResponsesInFlight => Volatile.Read(ref _responses);

    /// <summary>
    /// Counts a generation response from before its submission to the engine until the returned lease is disposed
    /// (when the response has ended: <c>HttpResponse.RegisterForDispose</c>), so the drain waits for the last byte of
    /// a stream, not only for the engine's last token. Taken before submitting: a request counted after the drain saw
    /// none in flight is one the draining engine refuses.
    /// </summary>
    public IDisposable TrackResponse()
    {
        Interlocked.Increment(ref _responses);
        return new ResponseLease(this);
    }

    /// <summary>
    /// The host began to stop: from now on <see cref="TryGetModel"/> finds nothing (new requests get 503
    /// <c>shutting_down</c>), the health check reports Unhealthy, and the engine refuses submissions. Idempotent.
    /// </summary>
    public void BeginDrain()
    {
        LanguageModel? model;
        lock (_lock)
        {
            if (_draining)
            {
                return;
            }

            _draining = true;
            model = _model;
            if (_status == ModelStatus.Ready)
            {
                _status = ModelStatus.Draining;
            }
        }

        // The engine refuses from this instant; what it already holds runs to its end.
        _ = model?.DrainAsync(Timeout.InfiniteTimeSpan);

        // A full fence between the engine's refusal and the count: a response counted after this read is one whose
        // submission comes after the refusal, so it is refused and never needs waiting for.
        Interlocked.MemoryBarrier();
        if (ResponsesInFlight == 0)
        {
            _responsesEnded.TrySetResult();
        }

        LogDrainBegun(logger, ResponsesInFlight);
    }

    /// <summary>
    /// Begins the drain if not yet begun and waits until every admitted generation response has ended, at most
    /// <paramref name="gracePeriod"/> (or until <paramref name="cancellationToken"/>); true when all ended in time.
    /// </summary>
    public async Task<bool> DrainAsync(TimeSpan gracePeriod, CancellationToken cancellationToken)
    {
        BeginDrain();
        var started = timeProvider.GetTimestamp();
        try
        {
            await _responsesEnded.Task.WaitAsync(gracePeriod, timeProvider, cancellationToken).ConfigureAwait(false);
            LogDrained(logger, timeProvider.GetElapsedTime(started).TotalSeconds);
            return true;
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
        {
            LogGracePeriodOver(logger, ResponsesInFlight, timeProvider.GetElapsedTime(started).TotalSeconds);
            return false;
        }
    }

    public void SetFailed(string reason)
    {
        lock (_lock)
        {
            FailureReason = reason;
            if (_status != ModelStatus.Stopped)
            {
                _status = ModelStatus.Failed;
            }
        }
    }

    /// <summary>Refuses new requests, awaits the engine's drain (bounded), then disposes the model.</summary>
    public async ValueTask DisposeAsync()
    {
        LanguageModel? model;
        lock (_lock)
        {
            model = _model;
            _model = null;
            _status = ModelStatus.Stopped;
        }

        if (model is null)
        {
            return;
        }

        if (!await model.DrainAsync(DrainTimeout).ConfigureAwait(false))
        {
            LogDrainTimeout(logger, model.Running + model.Waiting, DrainTimeout.TotalSeconds);
        }

        model.Dispose();
    }

    private void ResponseEnded()
    {
        if (Interlocked.Decrement(ref _responses) == 0 && _draining)
        {
            _responsesEnded.TrySetResult();
        }
    }

    /// <summary>For a synchronous disposal of the container; the host disposes asynchronously.</summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    [LoggerMessage(LogLevel.Information, "Stopping: new requests are refused (503 shutting_down); draining {Responses} generation responses.")]
    private static partial void LogDrainBegun(ILogger logger, int responses);

    [LoggerMessage(LogLevel.Information, "Drained: every generation response ended {Seconds:F1} s after the drain began.")]
    private static partial void LogDrained(ILogger logger, double seconds);

    [LoggerMessage(LogLevel.Warning, "The shutdown grace period ended {Seconds:F1} s into the drain with {Responses} generation responses still running; they are cut off.")]
    private static partial void LogGracePeriodOver(ILogger logger, int responses, double seconds);

    [LoggerMessage(LogLevel.Warning, "{Requests} requests were still in the engine {Seconds} s after shutdown began; disposing the model anyway.")]
    private static partial void LogDrainTimeout(ILogger logger, int requests, double seconds);

    /// <summary>Ends one counted response, once.</summary>
    private sealed class ResponseLease(ModelHost host) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                host.ResponseEnded();
            }
        }
    }
}
