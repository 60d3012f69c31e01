using System.Diagnostics.CodeAnalysis;
using LlmAspire.Inference;

namespace LlmAspire.ModelServer.Hosting;

/// <summary>
/// The one owner of the process's <see cref="LanguageModel"/>: <see cref="ModelLoader"/> hands it over when
/// loaded, request handlers borrow it, and it is disposed when the host is, after the generations it runs end
/// (the model's drain is awaited, bounded by <see cref="DrainTimeout"/>).
/// </summary>
internal sealed partial class ModelHost(TimeProvider timeProvider, ILogger<ModelHost> logger) : IAsyncDisposable, IDisposable
{
    /// <summary>How long disposal waits for running and waiting generations to end.</summary>
    public static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(10);

    private readonly Lock _lock = new();
    private LanguageModel? _model;
    private volatile ModelStatus _status = ModelStatus.Loading;

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
            _status = ModelStatus.Ready;
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

    /// <summary>For a synchronous disposal of the container; the host disposes asynchronously.</summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    [LoggerMessage(LogLevel.Warning, "{Requests} requests were still in the engine {Seconds} s after shutdown began; disposing the model anyway.")]
    private static partial void LogDrainTimeout(ILogger logger, int requests, double seconds);
}
