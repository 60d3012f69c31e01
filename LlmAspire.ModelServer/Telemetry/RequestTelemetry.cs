using System.Diagnostics;
using LlmAspire.Inference.Engine;

namespace LlmAspire.ModelServer.Telemetry;

/// <summary>
/// One request's span (<c>{operation} {model}</c>, with GenAI attributes and the events <c>queued</c>, <c>scheduled</c>,
/// <c>prefill_done</c> at the first token and <c>decode_done</c>) and its <c>gen_ai.server.*</c> measurements.
/// Token counts only: no prompt or completion text.
/// </summary>
internal sealed class RequestTelemetry : IDisposable
{
    private readonly ModelServerTelemetry _telemetry;
    private readonly Activity? _activity;
    private readonly long _start = Stopwatch.GetTimestamp();
    private readonly TagList _tags;
    private readonly bool _finalOnly;
    private long _firstTokenAt;
    private long _queuedAt;
    private bool _ended;

    public RequestTelemetry(ModelServerTelemetry telemetry, string operation, string id, string model, GenerationRequest request)
    {
        _telemetry = telemetry;
        _finalOnly = request.FinalOnly;
        _tags = new TagList
        {
            { "gen_ai.operation.name", operation },
            { "gen_ai.provider.name", ModelServerTelemetry.ProviderName },
            { "gen_ai.request.model", model },
            { "gen_ai.response.model", model },
        };

        _activity = telemetry.ActivitySource.StartActivity($"{operation} {model}", ActivityKind.Internal);
        if (_activity is { IsAllDataRequested: true } activity)
        {
            foreach (var tag in _tags)
            {
                activity.SetTag(tag.Key, tag.Value);
            }

            activity.SetTag("gen_ai.response.id", id);
            activity.SetTag("gen_ai.request.max_tokens", request.MaxTokens);
            activity.SetTag("gen_ai.request.temperature", request.Temperature);
            activity.SetTag("gen_ai.request.top_p", request.TopP);
            if (request.TopK > 0)
            {
                activity.SetTag("gen_ai.request.top_k", request.TopK);
            }

            if (request.Seed is { } seed)
            {
                activity.SetTag("gen_ai.request.seed", seed);
            }

            if (request.N != 1)
            {
                activity.SetTag("gen_ai.request.choice.count", request.N);
            }

            activity.SetTag("gen_ai.usage.input_tokens", request.PromptTokens.Count);
        }
    }

    /// <summary>The request was handed to the engine, with <paramref name="waiting"/> requests waiting then.</summary>
    public void Queued(int waiting)
    {
        _queuedAt = Stopwatch.GetTimestamp();
        _activity?.AddEvent(new ActivityEvent("queued", tags: new ActivityTagsCollection { ["llmaspire.engine.waiting"] = waiting }));
    }

    /// <summary>
    /// An update arrived; the first one ends the prefill. A non-streamed request's only update comes at the end, so its
    /// first token is dated by the engine's clock: when it was queued plus the update's time to first token.
    /// </summary>
    public void Update(GenerationUpdate update)
    {
        if (_firstTokenAt != 0)
        {
            return;
        }

        _firstTokenAt = _finalOnly
            ? (_queuedAt != 0 ? _queuedAt : _start) + (long)(update.TimeToFirstToken.TotalSeconds * Stopwatch.Frequency)
            : Stopwatch.GetTimestamp();
        if (_activity is { } activity)
        {
            // The engine's own clock: when the request got its rows and when its first token came out.
            activity.AddEvent(new ActivityEvent("scheduled", activity.StartTimeUtc + update.QueueTime));
            activity.AddEvent(new ActivityEvent(
                "prefill_done",
                activity.StartTimeUtc + update.TimeToFirstToken,
                new ActivityTagsCollection { ["llmaspire.usage.cached_input_tokens"] = update.CachedTokens }));
        }
    }

    /// <summary>Every choice finished: records usage on the span and the GenAI server metrics.</summary>
    public void Completed(int completionTokens, int longestChoiceTokens, int cachedTokens, IReadOnlyList<string> finishReasons)
    {
        if (!End())
        {
            return;
        }

        var end = Stopwatch.GetTimestamp();
        if (_firstTokenAt != 0)
        {
            _telemetry.TimeToFirstToken.Record(Stopwatch.GetElapsedTime(_start, _firstTokenAt).TotalSeconds, _tags);
            if (longestChoiceTokens > 1)
            {
                _telemetry.TimePerOutputToken.Record(Stopwatch.GetElapsedTime(_firstTokenAt, end).TotalSeconds / (longestChoiceTokens - 1), _tags);
            }
        }

        _telemetry.RequestDuration.Record(Stopwatch.GetElapsedTime(_start, end).TotalSeconds, _tags);
        if (_activity is { } activity)
        {
            activity.AddEvent(new ActivityEvent("decode_done"));
            activity.SetTag("gen_ai.usage.output_tokens", completionTokens);
            activity.SetTag("llmaspire.usage.cached_input_tokens", cachedTokens);
            activity.SetTag("gen_ai.response.finish_reasons", finishReasons.ToArray());
            activity.SetStatus(ActivityStatusCode.Ok);
        }
    }

    /// <summary>The request ended without finishing: <paramref name="errorType"/> is e.g. <c>cancelled</c>, <c>queue_full</c> or an exception type.</summary>
    public void Failed(string errorType, int completionTokens)
    {
        if (!End())
        {
            return;
        }

        var tags = _tags;
        tags.Add("error.type", errorType);
        _telemetry.RequestDuration.Record(Stopwatch.GetElapsedTime(_start).TotalSeconds, tags);
        if (_activity is { } activity)
        {
            activity.SetTag("error.type", errorType);
            activity.SetTag("gen_ai.usage.output_tokens", completionTokens);
            activity.SetStatus(ActivityStatusCode.Error, errorType);
        }
    }

    public void Dispose() => _activity?.Dispose();

    private bool End()
    {
        if (_ended)
        {
            return false;
        }

        _ended = true;
        return true;
    }
}
