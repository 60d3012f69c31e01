using LlmAspire.Gateway.Routing;
using LlmAspire.Gateway.LoadPolling;

namespace LlmAspire.Tests.Gateway.LoadPolling;

/// <summary>Reading a model server's load from literal Prometheus text.</summary>
public sealed class PrometheusLoadParserTests
{
    private const string VllmExposition = """
        # HELP vllm:num_requests_running Number of requests in model execution batches.
        # TYPE vllm:num_requests_running gauge
        vllm:num_requests_running{model_name="stories260K"} 3
        # HELP vllm:num_requests_waiting Number of requests waiting to be processed.
        # TYPE vllm:num_requests_waiting gauge
        vllm:num_requests_waiting{model_name="stories260K"} 2
        # HELP vllm:kv_cache_usage_perc KV-cache usage. 1 means 100 percent usage.
        # TYPE vllm:kv_cache_usage_perc gauge
        vllm:kv_cache_usage_perc{model_name="stories260K"} 0.25
        # HELP vllm:request_success_total Count of successfully processed requests.
        # TYPE vllm:request_success_total counter
        vllm:request_success_total{finished_reason="length",model_name="stories260K"} 17
        # HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.
        # TYPE process_cpu_seconds_total counter
        process_cpu_seconds_total 1.5
        """;

    [Fact]
    public void Parse_VllmExposition_ReadsRunningWaitingAndKvUsage()
    {
        var load = PrometheusLoadParser.Parse(VllmExposition, "stories260K");

        Assert.Equal(new ModelServerLoad(3, 2, 0.25), load);
        Assert.True(load.IsKnown);
    }

    [Fact]
    public void Parse_NoModelGiven_TakesEverySeries()
    {
        Assert.Equal(new ModelServerLoad(3, 2, 0.25), PrometheusLoadParser.Parse(VllmExposition, model: null));
    }

    [Fact]
    public void Parse_SeveralModels_TakesTheRequestedModelsSeries()
    {
        const string text = """
            vllm:num_requests_running{model_name="a"} 1
            vllm:num_requests_running{model_name="b"} 4
            vllm:num_requests_waiting{model_name="a"} 0
            vllm:num_requests_waiting{model_name="b"} 7
            vllm:kv_cache_usage_perc{model_name="a"} 0.1
            vllm:kv_cache_usage_perc{model_name="b"} 0.9
            """;

        Assert.Equal(new ModelServerLoad(4, 7, 0.9), PrometheusLoadParser.Parse(text, "b"));
        Assert.Equal(new ModelServerLoad(1, 0, 0.1), PrometheusLoadParser.Parse(text, "a"));
        // A model no series is labelled with: every series (a server serves one model, whatever it calls it).
        Assert.Equal(new ModelServerLoad(5, 7, 0.9), PrometheusLoadParser.Parse(text, "c"));
    }

    [Fact]
    public void Parse_NoVllmMetrics_IsUnknown()
    {
        const string text = """
            # TYPE http_requests_received_total counter
            http_requests_received_total{code="200",method="GET"} 12
            """;

        var load = PrometheusLoadParser.Parse(text, "stories260K");

        Assert.Equal(ModelServerLoad.Unknown, load);
        Assert.False(load.IsKnown);
        Assert.False(PrometheusLoadParser.Parse(string.Empty, null).IsKnown);
    }

    [Fact]
    public void Parse_OnlySomeMetrics_LeavesTheOthersNull()
    {
        var load = PrometheusLoadParser.Parse("vllm:num_requests_waiting 4\n", "m");

        Assert.Equal(new ModelServerLoad(null, 4, null), load);
        Assert.True(load.IsKnown);
    }

    [Fact]
    public void Parse_Timestamps_LabelsWithEscapesAndSpaces_AreHandled()
    {
        const string text = "vllm:num_requests_running{ model_name = \"org/m \\\"quoted\\\" }\" , other=\"x,y}\" } 2 1700000000000\n"
            + "vllm:num_requests_waiting{model_name=\"org/m \\\"quoted\\\" }\"}\t1.5e1\r\n";

        Assert.Equal(new ModelServerLoad(2, 15, null), PrometheusLoadParser.Parse(text, "org/m \"quoted\" }"));
    }

    [Fact]
    public void Parse_MalformedLinesAndNonFiniteValues_AreSkipped()
    {
        const string text = """
            vllm:num_requests_running{model_name="m"
            vllm:num_requests_running{model_name="m"} NaN
            vllm:num_requests_running{model_name="m"} +Inf
            vllm:num_requests_running{model_name="m"} many
            vllm:num_requests_running{model_name="m"} 2
            vllm:num_requests_waiting
            vllm:kv_cache_usage_perc{model_name="m"} -Inf
            """;

        Assert.Equal(new ModelServerLoad(2, null, null), PrometheusLoadParser.Parse(text, "m"));
    }

    [Fact]
    public void Parse_OlderKvCacheName_IsAccepted()
    {
        const string text = """
            vllm:num_requests_running{model_name="m"} 0
            vllm:gpu_cache_usage_perc{model_name="m"} 0.5
            """;

        Assert.Equal(0.5, PrometheusLoadParser.Parse(text, "m").KvCacheUsage);
    }

    [Fact]
    public void MetricsUri_KeepsTheAddressPath()
    {
        Assert.Equal("http://localhost:5100/metrics", DestinationLoadPoller.MetricsUri("http://localhost:5100").ToString());
        Assert.Equal("http://localhost:5100/metrics", DestinationLoadPoller.MetricsUri("http://localhost:5100/").ToString());
        Assert.Equal("http://host/prefix/metrics", DestinationLoadPoller.MetricsUri("http://host/prefix/").ToString());
    }
}
