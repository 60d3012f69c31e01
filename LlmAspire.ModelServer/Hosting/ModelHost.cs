using System.Diagnostics.CodeAnalysis;
using LlmAspire.Inference;

namespace LlmAspire.ModelServer.Hosting;

/// <summary>
/// The one owner of the process's <see cref="LanguageModel"/>: <see cref="ModelLoader"/> hands it over when
/// loaded, request handlers borrow it, and it is disposed when the host is, after running generations end
/// (bounded by <see cref="DrainTimeout"/>).
/// </summary>
internal sealed partial class ModelHost(TimeProvider timeProvider, ILogger<ModelHost> logger) : IDisposable
{
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan DrainPoll = TimeSpan.FromMilliseconds(50);

    private readonly Lock _lock = new();
    private LanguageModel? _model;
    private volatile ModelStatus _status = ModelStatus.Loading;

    public ModelStatus Status => _status;

    /// <summary>Why loading failed, when <see cref="Status"/> is <see cref="ModelStatus.Failed"/>.</summary>
    public string? FailureReason { get; private set; }

    /// <summary>When the model became ready, in Unix seconds: the <c>created</c> of its model card.</summary>
    public long ReadySince { get; private set; }

    /// <summary>How the model chats (its chat template), once it is ready.</summary>
    public ModelChat? Chat { get; private set; }

    public bool TryGetModel([NotNullWhen(true)] out LanguageModel? model)
    {
        model = _status == ModelStatus.Ready ? _model : null;
        return model is not null;
    }

    public void SetReady(LanguageModel model)
    {
        var chat = ModelChat.For(model);
        lock (_lock)
        {
            if (_status == ModelStatus.Stopped)
            {
                model.Dispose();
                return;
            }

            _model = model;
            Chat = chat;
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

    /// <summary>Refuses new requests, lets the engine finish what it runs (bounded), then disposes the model.</summary>
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

        var deadline = timeProvider.GetTimestamp() + (long)(DrainTimeout.TotalSeconds * timeProvider.TimestampFrequency);
        while (model.Engine.Running + model.Engine.Waiting > 0)
        {
            if (timeProvider.GetTimestamp() >= deadline)
            {
                LogDrainTimeout(logger, model.Engine.Running + model.Engine.Waiting, DrainTimeout.TotalSeconds);
                break;
            }

            Thread.Sleep(DrainPoll);
        }

        model.Dispose();
    }

    [LoggerMessage(LogLevel.Warning, "{Requests} requests were still in the engine {Seconds} s after shutdown began; disposing the model anyway.")]
    private static partial void LogDrainTimeout(ILogger logger, int requests, double seconds);
}
