using LlmAspire.Cli.Benchmarking;

namespace LlmAspire.Tests.Cli.Benchmarking;

/// <summary>The soak's request mix and its reading of the servers' gauges.</summary>
public sealed class SoakTests
{
    [Fact]
    public void Create_SameSeedAndIndex_GivesTheSameRequest()
    {
        var first = SoakRequest.Create(123, seed: 5, model: "m", maxTokens: 8);
        var again = SoakRequest.Create(123, seed: 5, model: "m", maxTokens: 8);

        Assert.Equal(first.Kind, again.Kind);
        Assert.Equal(first.Path, again.Path);
        Assert.Equal(first.Body, again.Body);
    }

    [Fact]
    public void Create_TenThousandRequests_MixEveryKindNearItsShare()
    {
        var kinds = Enumerable.Range(0, 10_000).Select(i => SoakRequest.Create(i, seed: 1, model: null, maxTokens: 8)).ToList();

        Assert.InRange(kinds.Count(r => r.Kind == SoakRequestKind.Plain), 3_200, 3_800);
        Assert.InRange(kinds.Count(r => r.Kind == SoakRequestKind.Streamed), 2_700, 3_300);
        Assert.InRange(kinds.Count(r => r.Kind == SoakRequestKind.Cancelled), 1_700, 2_300);
        Assert.InRange(kinds.Count(r => r.Kind == SoakRequestKind.Invalid), 1_200, 1_800);
        Assert.All(kinds.Where(r => r.Kind == SoakRequestKind.Cancelled), r => Assert.InRange(r.CancelAfterEvents, 1, 3));
        Assert.Contains(kinds, r => r.Path == "v1/chat/completions" && r.Kind != SoakRequestKind.Invalid);
    }

    [Fact]
    public void Parse_SumsEachGaugeOverItsSeries()
    {
        const string Metrics = """
            # HELP vllm:num_requests_running Number of requests in model execution batches.
            # TYPE vllm:num_requests_running gauge
            vllm:num_requests_running{model_name="a"} 2
            vllm:num_requests_running{model_name="b"} 1
            vllm:num_requests_waiting{model_name="a"} 0
            vllm:kv_cache_usage_perc{model_name="a"} 0.125
            vllm:num_requests_running_total 99
            """;

        var gauges = SoakGauges.Parse("s", Metrics);

        Assert.Equal(new SoakGauges("s", 3, 0, 0.125), gauges);
        Assert.False(gauges.IsIdle);
        Assert.True(SoakGauges.Parse("s", "vllm:num_requests_running 0\nvllm:kv_cache_usage_perc{x=\"y z\"} 0\n").IsIdle);
    }

    [Fact]
    public void Read_ThisProcess_HasResidentMemory()
    {
        var process = SoakProcess.Read(Environment.ProcessId);

        Assert.True(process.RssKiB > 0 || !OperatingSystem.IsLinux());
    }
}
