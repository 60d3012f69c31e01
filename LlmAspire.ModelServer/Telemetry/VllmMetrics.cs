using System.Text;
using LlmAspire.Inference.Engine;
using LlmAspire.ModelServer.Telemetry.Prometheus;

namespace LlmAspire.ModelServer.Telemetry;

/// <summary>
/// The engine's metrics under vLLM's names (colons included, which OpenTelemetry instrument names forbid), each with
/// a <c>model_name</c> label, in the Prometheus text format served on <see cref="Path"/>: dashboards, autoscalers
/// and LLM-aware routers written for vLLM read them unchanged. Fed by <see cref="CreateListener"/> on the engine thread.
/// Histogram buckets are vLLM's with finer ones in front, since a small model answers in well under vLLM's first bucket.
/// </summary>
internal sealed class VllmMetrics
{
    /// <summary>Where the Prometheus text format is served.</summary>
    public const string Path = "/metrics";

    public const string ModelNameLabel = "model_name";
    public const string FinishedReasonLabel = "finished_reason";

    private static readonly double[] s_ttftBuckets =
        [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0];

    private static readonly double[] s_tokenBuckets =
        [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0];

    private static readonly double[] s_requestBuckets =
        [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0];

    private readonly IPrometheusFamily[] _families;

    public VllmMetrics()
    {
        RequestsRunning = new PrometheusGauge("vllm:num_requests_running", "Number of requests in model execution batches.", ModelNameLabel);
        RequestsWaiting = new PrometheusGauge("vllm:num_requests_waiting", "Number of requests waiting to be processed.", ModelNameLabel);
        KvCacheUsage = new PrometheusGauge("vllm:kv_cache_usage_perc", "KV-cache usage. 1 means 100 percent usage.", ModelNameLabel);
        TimeToFirstToken = new PrometheusHistogram(
            "vllm:time_to_first_token_seconds", "Histogram of time to first token in seconds.", s_ttftBuckets, ModelNameLabel);
        InterTokenLatency = new PrometheusHistogram(
            "vllm:inter_token_latency_seconds", "Histogram of inter-token latency in seconds.", s_tokenBuckets, ModelNameLabel);
        TimePerOutputToken = new PrometheusHistogram(
            "vllm:time_per_output_token_seconds", "Histogram of time per output token in seconds (vLLM's older name for the inter-token latency).", s_tokenBuckets, ModelNameLabel);
        EndToEndLatency = new PrometheusHistogram(
            "vllm:e2e_request_latency_seconds", "Histogram of end to end request latency in seconds.", s_requestBuckets, ModelNameLabel);
        QueueTime = new PrometheusHistogram(
            "vllm:request_queue_time_seconds", "Histogram of time spent in WAITING phase for request.", s_requestBuckets, ModelNameLabel);
        PromptTokens = new PrometheusCounter("vllm:prompt_tokens_total", "Number of prefill tokens processed.", ModelNameLabel);
        GenerationTokens = new PrometheusCounter("vllm:generation_tokens_total", "Number of generation tokens processed.", ModelNameLabel);
        RequestSuccess = new PrometheusCounter(
            "vllm:request_success_total", "Count of successfully processed requests.", ModelNameLabel, FinishedReasonLabel);
        PrefixCacheQueries = new PrometheusCounter(
            "vllm:prefix_cache_queries_total", "Prefix cache queries, in terms of number of queried tokens.", ModelNameLabel);
        PrefixCacheHits = new PrometheusCounter(
            "vllm:prefix_cache_hits_total", "Prefix cache hits, in terms of number of cached tokens.", ModelNameLabel);
        SpecDecodeDrafts = new PrometheusCounter("vllm:spec_decode_num_drafts_total", "Number of spec decoding drafts.", ModelNameLabel);
        SpecDecodeDraftTokens = new PrometheusCounter("vllm:spec_decode_num_draft_tokens_total", "Number of draft tokens.", ModelNameLabel);
        SpecDecodeAcceptedTokens = new PrometheusCounter("vllm:spec_decode_num_accepted_tokens_total", "Number of accepted tokens.", ModelNameLabel);
        _families =
        [
            RequestsRunning, RequestsWaiting, KvCacheUsage, TimeToFirstToken, InterTokenLatency, TimePerOutputToken, EndToEndLatency,
            QueueTime, PromptTokens, GenerationTokens, RequestSuccess, PrefixCacheQueries, PrefixCacheHits,
            SpecDecodeDrafts, SpecDecodeDraftTokens, SpecDecodeAcceptedTokens,
        ];
    }

    public PrometheusGauge RequestsRunning { get; }

    public PrometheusGauge RequestsWaiting { get; }

    public PrometheusGauge KvCacheUsage { get; }

    public PrometheusHistogram TimeToFirstToken { get; }

    public PrometheusHistogram InterTokenLatency { get; }

    public PrometheusHistogram TimePerOutputToken { get; }

    public PrometheusHistogram EndToEndLatency { get; }

    public PrometheusHistogram QueueTime { get; }

    public PrometheusCounter PromptTokens { get; }

    public PrometheusCounter GenerationTokens { get; }

    public PrometheusCounter RequestSuccess { get; }

    public PrometheusCounter PrefixCacheQueries { get; }

    public PrometheusCounter PrefixCacheHits { get; }

    /// <summary>Proposals checked (one per sequence and step that had one): speculative decoding.</summary>
    public PrometheusCounter SpecDecodeDrafts { get; }

    /// <summary>Tokens proposed; the acceptance rate is <see cref="SpecDecodeAcceptedTokens"/> over this.</summary>
    public PrometheusCounter SpecDecodeDraftTokens { get; }

    /// <summary>Proposed tokens the model produced itself and that were kept.</summary>
    public PrometheusCounter SpecDecodeAcceptedTokens { get; }

    /// <summary>Every family in the Prometheus text format.</summary>
    public string Render()
    {
        var text = new StringBuilder(16 * 1024);
        foreach (var family in _families)
        {
            family.Write(text);
        }

        return text.ToString();
    }

    /// <summary>The engine listener that records <paramref name="modelName"/>'s metrics (its series exist from now on, at zero).</summary>
    public IEngineListener CreateListener(string modelName) => new VllmEngineListener(this, modelName);
}
