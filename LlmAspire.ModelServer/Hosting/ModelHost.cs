using System.Diagnostics.CodeAnalysis;
using LlmAspire.Inference;

namespace LlmAspire.ModelServer.Hosting;

/// <summary>
/// The one owner of the process's <see cref="LanguageModel"/>: <see cref="ModelLoader"/> hands it over when
/// loaded, request handlers borrow it, and it is disposed when the host is, after the running generation ends.
/// </summary>
internal sealed partial class ModelHost(GenerationQueue queue, TimeProvider timeProvider, ILogger<ModelHost> logger) : IDisposable
{
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(10);

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

    public void Dispose()
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

        if (!queue.Close(DrainTimeout))
        {
            LogDrainTimeout(logger, DrainTimeout.TotalSeconds);
        }

        model.Dispose();
    }

    [LoggerMessage(LogLevel.Warning, "A generation was still running {Seconds} s after shutdown began; disposing the model anyway.")]
    private static partial void LogDrainTimeout(ILogger logger, double seconds);
}
