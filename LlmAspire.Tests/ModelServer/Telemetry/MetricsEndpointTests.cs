using LlmAspire.Tests.Inference;
using System.Net;
using LlmAspire.Tests.AppHost;
using static LlmAspire.Tests.ModelServer.ModelServerHttp;

namespace LlmAspire.Tests.ModelServer.Telemetry;

/// <summary><c>GET /metrics</c>: vLLM's metric names with a <c>model_name</c> label, in the Prometheus text format.</summary>
[Collection(AspireAppCollection.Name)]
public sealed class MetricsEndpointTests(AspireAppFixture fixture)
{
    public static TheoryData<string, string> Families { get; } = new()
    {
        { "vllm:num_requests_running", "gauge" },
        { "vllm:num_requests_waiting", "gauge" },
        { "vllm:kv_cache_usage_perc", "gauge" },
        { "vllm:time_to_first_token_seconds", "histogram" },
        { "vllm:inter_token_latency_seconds", "histogram" },
        { "vllm:time_per_output_token_seconds", "histogram" },
        { "vllm:e2e_request_latency_seconds", "histogram" },
        { "vllm:request_queue_time_seconds", "histogram" },
        { "vllm:prompt_tokens_total", "counter" },
        { "vllm:generation_tokens_total", "counter" },
        { "vllm:request_success_total", "counter" },
        { "vllm:prefix_cache_queries_total", "counter" },
        { "vllm:prefix_cache_hits_total", "counter" },
        { "vllm:spec_decode_num_drafts_total", "counter" },
        { "vllm:spec_decode_num_draft_tokens_total", "counter" },
        { "vllm:spec_decode_num_accepted_tokens_total", "counter" },
    };

    [Stories260KTheory]
    [MemberData(nameof(Families))]
    public async Task Metrics_HasTheVllmFamilyWithTheModelNameLabel(string name, string type)
    {
        using var client = fixture.CreateModelServerClient(1);

        var metrics = await ModelServerMetrics.ScrapeAsync(client);

        Assert.Contains($"# TYPE {name} {type}\n", metrics.Text, StringComparison.Ordinal);
        Assert.Contains($"# HELP {name} ", metrics.Text, StringComparison.Ordinal);
        var sample = type == "histogram" ? name + "_count" : name;
        var labels = name == "vllm:request_success_total" ? new[] { ("finished_reason", "length") } : [];
        Assert.True(metrics.Value(sample, labels) >= 0);
    }

    [Stories260KFact]
    public async Task Metrics_AfterACompletion_CountItsTokensAndLatencies()
    {
        using var client = fixture.CreateModelServerClient(1);
        var before = await ModelServerMetrics.ScrapeAsync(client);

        using var completion = await CompleteAsync(client, Json(new Dictionary<string, object?>
        {
            ["prompt"] = StoryPrompt,
            ["max_tokens"] = 7,
            ["logit_bias"] = NoEos,
        }));

        var after = await ModelServerMetrics.ScrapeAsync(client);
        var promptTokens = completion.RootElement.GetProperty("usage").GetProperty("prompt_tokens").GetInt32();
        double Delta(string name, params (string, string)[] labels) => after.Value(name, labels) - before.Value(name, labels);
        Assert.Equal(promptTokens, Delta("vllm:prompt_tokens_total"));
        Assert.Equal(7, Delta("vllm:generation_tokens_total"));
        Assert.Equal(1, Delta("vllm:request_success_total", ("finished_reason", "length")));
        Assert.Equal(1, Delta("vllm:time_to_first_token_seconds_count"));
        Assert.Equal(1, Delta("vllm:e2e_request_latency_seconds_count"));
        Assert.Equal(1, Delta("vllm:request_queue_time_seconds_count"));
        // One interval between each of the 7 tokens (and the sampled one after the last).
        Assert.InRange(Delta("vllm:inter_token_latency_seconds_count"), 6, 7);
        Assert.Equal(Delta("vllm:inter_token_latency_seconds_count"), Delta("vllm:time_per_output_token_seconds_count"));
        Assert.InRange(after.Value("vllm:kv_cache_usage_perc"), 0, 1);
        Assert.Equal(after.Value("vllm:time_to_first_token_seconds_count"), after.Value("vllm:time_to_first_token_seconds_bucket", ("le", "+Inf")));
    }

    [Stories260KFact]
    public async Task Metrics_ContentType_IsThePrometheusTextFormat()
    {
        using var client = fixture.CreateModelServerClient(0);

        using var response = await client.GetAsync(ModelServerMetrics.MetricsUri).WaitAsync(RequestTimeout);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(response.Content.Headers.ContentType!.Parameters, p => p.Name == "version" && p.Value == "0.0.4");
    }
}
