using System.Diagnostics.Metrics;

namespace LlmAspire.ModelServer.Hosting;

/// <summary>The <c>LlmAspire.ModelServer</c> meter: requests by outcome, tokens in and out, requests waiting.</summary>
internal sealed class ModelServerMetrics
{
    public const string MeterName = "LlmAspire.ModelServer";

    private readonly Counter<long> _requests;
    private readonly Counter<long> _promptTokens;
    private readonly Counter<long> _generationTokens;
    private readonly UpDownCounter<long> _waiting;

    public ModelServerMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _requests = meter.CreateCounter<long>("llmaspire.modelserver.requests", "{request}", "Completion requests by outcome.");
        _promptTokens = meter.CreateCounter<long>("llmaspire.modelserver.prompt_tokens", "{token}", "Prompt tokens processed.");
        _generationTokens = meter.CreateCounter<long>("llmaspire.modelserver.generation_tokens", "{token}", "Tokens generated.");
        _waiting = meter.CreateUpDownCounter<long>("llmaspire.modelserver.queue.waiting", "{request}", "Requests waiting for the engine.");
    }

    /// <summary>Counts one request; <paramref name="outcome"/> is ok, rejected, queue_full, unavailable, cancelled or error.</summary>
    public void Request(string outcome) => _requests.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    public void Tokens(int promptTokens, int generationTokens)
    {
        _promptTokens.Add(promptTokens);
        _generationTokens.Add(generationTokens);
    }

    public void Waiting(int delta) => _waiting.Add(delta);
}
