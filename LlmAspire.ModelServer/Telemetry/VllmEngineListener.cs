using LlmAspire.Inference.Engine;
using LlmAspire.ModelServer.Telemetry.Prometheus;

namespace LlmAspire.ModelServer.Telemetry;

/// <summary>
/// Records the engine's events into <see cref="VllmMetrics"/> for one model. Runs on the engine thread, so every
/// labelled series is resolved once here and each event costs a few atomic adds. Counts are per choice, as vLLM
/// counts each of a request's <c>n</c> sequences; a cancelled or failed choice finishes as <c>abort</c>.
/// </summary>
internal sealed class VllmEngineListener : IEngineListener
{
    private readonly PrometheusGauge.Series _running;
    private readonly PrometheusGauge.Series _waiting;
    private readonly PrometheusGauge.Series _kvUsage;
    private readonly PrometheusHistogram.Series _timeToFirstToken;
    private readonly PrometheusHistogram.Series _interTokenLatency;
    private readonly PrometheusHistogram.Series _timePerOutputToken;
    private readonly PrometheusHistogram.Series _endToEnd;
    private readonly PrometheusHistogram.Series _queueTime;
    private readonly PrometheusCounter.Series _promptTokens;
    private readonly PrometheusCounter.Series _generationTokens;
    private readonly PrometheusCounter.Series _stopped;
    private readonly PrometheusCounter.Series _length;
    private readonly PrometheusCounter.Series _aborted;
    private readonly PrometheusCounter.Series _prefixQueries;
    private readonly PrometheusCounter.Series _prefixHits;
    private readonly PrometheusCounter.Series _drafts;
    private readonly PrometheusCounter.Series _draftTokens;
    private readonly PrometheusCounter.Series _acceptedTokens;

    public VllmEngineListener(VllmMetrics metrics, string modelName)
    {
        _running = metrics.RequestsRunning.WithLabels(modelName);
        _waiting = metrics.RequestsWaiting.WithLabels(modelName);
        _kvUsage = metrics.KvCacheUsage.WithLabels(modelName);
        _timeToFirstToken = metrics.TimeToFirstToken.WithLabels(modelName);
        _interTokenLatency = metrics.InterTokenLatency.WithLabels(modelName);
        _timePerOutputToken = metrics.TimePerOutputToken.WithLabels(modelName);
        _endToEnd = metrics.EndToEndLatency.WithLabels(modelName);
        _queueTime = metrics.QueueTime.WithLabels(modelName);
        _promptTokens = metrics.PromptTokens.WithLabels(modelName);
        _generationTokens = metrics.GenerationTokens.WithLabels(modelName);
        _stopped = metrics.RequestSuccess.WithLabels(modelName, "stop");
        _length = metrics.RequestSuccess.WithLabels(modelName, "length");
        _aborted = metrics.RequestSuccess.WithLabels(modelName, "abort");
        _prefixQueries = metrics.PrefixCacheQueries.WithLabels(modelName);
        _prefixHits = metrics.PrefixCacheHits.WithLabels(modelName);
        _drafts = metrics.SpecDecodeDrafts.WithLabels(modelName);
        _draftTokens = metrics.SpecDecodeDraftTokens.WithLabels(modelName);
        _acceptedTokens = metrics.SpecDecodeAcceptedTokens.WithLabels(modelName);
    }

    public void RequestScheduled(TimeSpan queueTime, int promptTokens, int cachedTokens)
    {
        _queueTime.Observe(queueTime.TotalSeconds);
        _promptTokens.Inc(promptTokens);
        _prefixQueries.Inc(promptTokens);
        _prefixHits.Inc(cachedTokens);
    }

    public void FirstToken(TimeSpan timeToFirstToken) => _timeToFirstToken.Observe(timeToFirstToken.TotalSeconds);

    public void NextToken(TimeSpan interTokenLatency)
    {
        var seconds = interTokenLatency.TotalSeconds;
        _interTokenLatency.Observe(seconds);
        _timePerOutputToken.Observe(seconds);
    }

    public void ChoiceFinished(FinishReason? reason, TimeSpan endToEnd, int promptTokens, int completionTokens)
    {
        _endToEnd.Observe(endToEnd.TotalSeconds);
        _generationTokens.Inc(completionTokens);
        var finished = reason switch
        {
            FinishReason.Stop => _stopped,
            FinishReason.Length => _length,
            _ => _aborted,
        };
        finished.Inc();
    }

    public void ProposalsVerified(int proposed, int accepted)
    {
        _drafts.Inc();
        _draftTokens.Inc(proposed);
        _acceptedTokens.Inc(accepted);
    }

    public void StepCompleted(int running, int waiting, double kvUsage)
    {
        _running.Set(running);
        _waiting.Set(waiting);
        _kvUsage.Set(kvUsage);
    }
}
