using System.Diagnostics;
using System.Diagnostics.Metrics;
using LlmAspire.Inference.Engine;
using LlmAspire.ModelServer.Hosting;

namespace LlmAspire.ModelServer.Telemetry;

/// <summary>
/// The <c>LlmAspire.ModelServer</c> meter and activity source, exported by ServiceDefaults over OTLP: the OpenTelemetry
/// GenAI server metrics (<c>gen_ai.server.*</c>, seconds), requests by outcome, tokens, and the engine's running and
/// waiting requests; one span per request (see <see cref="RequestTelemetry"/>). Prompt and completion text never
/// enter telemetry.
/// </summary>
internal sealed class ModelServerTelemetry : IDisposable
{
    /// <summary>The meter's and the activity source's name, given to <c>AddServiceDefaults</c>.</summary>
    public const string SourceName = "LlmAspire.ModelServer";

    /// <summary><c>gen_ai.provider.name</c>: this server.</summary>
    public const string ProviderName = "llmaspire";

    private readonly Counter<long> _requests;
    private readonly Counter<long> _promptTokens;
    private readonly Counter<long> _generationTokens;

    public ModelServerTelemetry(IMeterFactory meterFactory, ModelHost host)
    {
        var meter = meterFactory.Create(SourceName);
        _requests = meter.CreateCounter<long>("llmaspire.modelserver.requests", "{request}", "Completion requests by outcome.");
        _promptTokens = meter.CreateCounter<long>("llmaspire.modelserver.prompt_tokens", "{token}", "Prompt tokens of requests that ran.");
        _generationTokens = meter.CreateCounter<long>("llmaspire.modelserver.generation_tokens", "{token}", "Tokens generated.");
        meter.CreateObservableUpDownCounter(
            "llmaspire.modelserver.requests.running",
            () => host.TryGetModel(out var model) ? model.Running : 0,
            "{request}",
            "Requests holding KV rows in the engine.");
        meter.CreateObservableUpDownCounter(
            "llmaspire.modelserver.requests.waiting",
            () => host.TryGetModel(out var model) ? model.Waiting : 0,
            "{request}",
            "Requests waiting for KV rows.");

        // Names, units and bucket advice from the OpenTelemetry GenAI semantic conventions.
        TimeToFirstToken = meter.CreateHistogram(
            "gen_ai.server.time_to_first_token",
            "s",
            "Time to generate first token for successful responses.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0] });
        TimePerOutputToken = meter.CreateHistogram(
            "gen_ai.server.time_per_output_token",
            "s",
            "Time per output token generated after the first token for successful responses.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5] });
        RequestDuration = meter.CreateHistogram(
            "gen_ai.server.request.duration",
            "s",
            "Generative AI server request duration such as time-to-last byte or last output token.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92] });
    }

    public ActivitySource ActivitySource { get; } = new(SourceName);

    public Histogram<double> TimeToFirstToken { get; }

    public Histogram<double> TimePerOutputToken { get; }

    public Histogram<double> RequestDuration { get; }

    /// <summary>Counts one request; <paramref name="outcome"/> is ok, rejected, queue_full, unavailable, cancelled or error.</summary>
    public void Request(string outcome) => _requests.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    public void Tokens(int promptTokens, int generationTokens)
    {
        _promptTokens.Add(promptTokens);
        _generationTokens.Add(generationTokens);
    }

    /// <summary>Starts the span and timers of one accepted request.</summary>
    public RequestTelemetry StartRequest(string operation, string id, string model, GenerationRequest request) =>
        new(this, operation, id, model, request);

    public void Dispose() => ActivitySource.Dispose();
}
