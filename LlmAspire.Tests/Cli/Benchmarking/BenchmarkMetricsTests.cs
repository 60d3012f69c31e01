using LlmAspire.Cli.Benchmarking;

namespace LlmAspire.Tests.Cli.Benchmarking;

public sealed class BenchmarkMetricsTests
{
    // Three completed requests and two failures over 2 s:
    // a: TTFT 100, E2E 400, 4 tokens, gaps 100 ×3  → TPOT (400 − 100) / 3 = 100
    // b: TTFT 200, E2E 1200, 6 tokens, gaps 200 ×5 → TPOT (1200 − 200) / 5 = 200
    // c: TTFT 50, E2E 50, 1 token                   → no TPOT (0 for goodput)
    private static readonly RequestOutcome[] _outcomes =
    [
        new() { Success = true, TtftMs = 100, LatencyMs = 400, OutputTokens = 4, PromptTokens = 10, UsageReported = true, ChunkGapsMs = [100, 100, 100], Cache = "MISS" },
        new() { Success = true, TtftMs = 200, LatencyMs = 1200, OutputTokens = 6, PromptTokens = 20, UsageReported = true, ChunkGapsMs = [200, 200, 200, 200, 200], Cache = "hit" },
        new() { Success = true, TtftMs = 50, LatencyMs = 50, OutputTokens = 1, PromptTokens = 30 },
        new() { Success = false, Error = "HTTP 503: busy", LatencyMs = 5 },
        new() { Success = false, Error = "HTTP 503: busy", LatencyMs = 7 },
    ];

    [Fact]
    public void Tpot_IsLatencyAfterFirstTokenOverRemainingTokens()
    {
        Assert.Equal(100, _outcomes[0].TpotMs);
        Assert.Equal(200, _outcomes[1].TpotMs);
        Assert.Null(_outcomes[2].TpotMs);
    }

    [Fact]
    public void Compute_SyntheticTimings_CountsAndThroughputs()
    {
        BenchmarkMetrics m = BenchmarkMetrics.Compute(_outcomes, 2.0);
        Assert.Equal(3, m.Completed);
        Assert.Equal(2, m.Failed);
        Assert.Equal(2, m.Errors["HTTP 503: busy"]);
        Assert.Equal(60, m.TotalInputTokens);
        Assert.Equal(11, m.TotalOutputTokens);
        Assert.Equal(2, m.UsageReported);
        Assert.Equal(1.5, m.RequestThroughput, 10);
        Assert.Equal(5.5, m.OutputThroughput, 10);
        Assert.Equal(35.5, m.TotalTokenThroughput, 10);
        Assert.Null(m.RequestGoodput);
        Assert.Equal(1, m.Cache["MISS"]);
        Assert.Equal(1, m.Cache["HIT"]);
    }

    [Fact]
    public void Compute_SyntheticTimings_LatencyDistributions()
    {
        BenchmarkMetrics m = BenchmarkMetrics.Compute(_outcomes, 2.0);
        Assert.Equal(350.0 / 3, m.Ttft.Mean, 10);
        Assert.Equal(100, m.Ttft.Median, 10);
        Assert.Equal(180, m.Ttft.P90, 10);
        Assert.Equal(198, m.Ttft.P99, 10);

        Assert.Equal(2, m.Tpot.Count); // the one-token request has no TPOT
        Assert.Equal(150, m.Tpot.Mean, 10);
        Assert.Equal(150, m.Tpot.Median, 10);
        Assert.Equal(199, m.Tpot.P99, 10); // rank 0.99 between 100 and 200

        // ITL: every gap of every request, [100 ×3, 200 ×5].
        Assert.Equal(8, m.Itl.Count);
        Assert.Equal(1300.0 / 8, m.Itl.Mean, 10);
        Assert.Equal(200, m.Itl.Median, 10); // rank 3.5 of the sorted gaps: 200 and 200
        Assert.Equal(200, m.Itl.P90, 10);

        Assert.Equal(550, m.E2e.Mean, 10);
        Assert.Equal(400, m.E2e.Median, 10);
        Assert.Equal(1040, m.E2e.P90, 10); // rank 1.8 over [50, 400, 1200]: 400 + 0.8 · 800
    }

    [Fact]
    public void Compute_WithSlos_GoodputCountsRequestsMeetingEveryObjective()
    {
        // ttft ≤ 150 and tpot ≤ 150: a (100, 100) and c (50, 0) are good; b (200) is not; failures never are.
        Assert.Equal(1.0, BenchmarkMetrics.Compute(_outcomes, 2.0, GoodputSlo.Parse(["ttft:150", "tpot:150"])).RequestGoodput!.Value, 10);
        Assert.Equal(0.5, BenchmarkMetrics.Compute(_outcomes, 2.0, GoodputSlo.Parse(["e2el:100"])).RequestGoodput!.Value, 10);
        Assert.Equal(1.5, BenchmarkMetrics.Compute(_outcomes, 2.0, GoodputSlo.Parse(["tpot:200"])).RequestGoodput!.Value, 10);
    }

    [Fact]
    public void GoodputSlo_Parse_ReadsPairsAndRejectsUnknownNames()
    {
        GoodputSlo slo = GoodputSlo.Parse(["ttft:500 tpot:50"]);
        Assert.Equal(500, slo.TtftMs);
        Assert.Equal(50, slo.TpotMs);
        Assert.Null(slo.E2eMs);
        Assert.Throws<FormatException>(() => GoodputSlo.Parse(["itl:5"]));
        Assert.Throws<FormatException>(() => GoodputSlo.Parse(["ttft=5"]));
    }
}
