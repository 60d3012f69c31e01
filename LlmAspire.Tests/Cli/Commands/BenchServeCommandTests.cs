using System.CommandLine;
using LlmAspire.Cli.Benchmarking;
using LlmAspire.Cli.Commands;
using LlmAspire.Tests.Cli.Benchmarking;

namespace LlmAspire.Tests.Cli.Commands;

/// <summary><c>bench serve</c> end to end against <see cref="FakeOpenAiServer"/>.</summary>
public sealed class BenchServeCommandTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("bench-serve-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private async Task<(int ExitCode, BenchResult Result)> RunAsync(FakeOpenAiServer server, params string[] extra)
    {
        string json = Path.Combine(_folder, "result.json");
        string[] args = ["serve", "--base-url", server.Endpoint.ToString(), "--result-json", json, "--label", "fake", .. extra];
        int exitCode = await new RootCommand { BenchServeCommand.Create() }.Parse(args).InvokeAsync().WaitAsync(FakeOpenAiServer.Timeout);
        return (exitCode, await BenchResult.ReadAsync(json, CancellationToken.None).WaitAsync(FakeOpenAiServer.Timeout));
    }

    [Fact]
    public async Task Serve_CompletionsWithUsage_CountsServerTokensAndTtftIncludesFirstChunkDelay()
    {
        await using var server = new FakeOpenAiServer();
        await server.StartAsync();

        var (exitCode, result) = await RunAsync(server,
            "--num-prompts", "6", "--warmup", "2", "--max-concurrency", "3", "--random-input-len", "12", "--random-output-len", "16",
            "--goodput", "ttft:100000", "tpot:100000", "--plot-dir", _folder);

        Assert.Equal(0, exitCode);
        Assert.Equal("fake-model", result.Model);
        BenchRun run = Assert.Single(result.Runs);
        BenchmarkMetrics m = run.Metrics;
        Assert.Equal(6, m.Completed);
        Assert.Equal(0, m.Failed);
        Assert.Equal(6, m.UsageReported);
        Assert.Equal(6 * 5, m.TotalOutputTokens);
        Assert.Equal(6 * 7, m.TotalInputTokens);
        Assert.Equal(6 * 4, m.Itl.Count);
        Assert.True(m.Itl.Median >= 15, $"ITL median {m.Itl.Median} ms: the fake sends chunks 20 ms apart");
        Assert.Equal(m.RequestThroughput, m.RequestGoodput!.Value, 10);
        Assert.All(run.Requests, r => Assert.True(r.TtftMs >= 150, $"TTFT {r.TtftMs} ms is below the fake's 150 ms first-chunk delay"));
        Assert.All(run.Requests, r => Assert.True(r.LatencyMs >= r.TtftMs + (4 * 15), $"E2E {r.LatencyMs} ms is too short for 4 gaps of 20 ms after TTFT {r.TtftMs}"));
        Assert.True(m.Ttft.Median >= 150);

        // Warm-up requests reach the server but not the metrics; every request streams with usage, greedy, max_tokens as asked.
        Assert.Equal(8, server.Requests.Count);
        Assert.All(server.Requests, body =>
        {
            Assert.True(body["stream"]!.GetValue<bool>());
            Assert.True(body["stream_options"]!["include_usage"]!.GetValue<bool>());
            Assert.Equal(16, body["max_tokens"]!.GetValue<int>());
            Assert.Equal(0, body["temperature"]!.GetValue<double>());
            Assert.Equal("fake-model", body["model"]!.GetValue<string>());
            Assert.Equal(12, body["prompt"]!.GetValue<string>().Split(' ').Length);
        });
        Assert.True(File.Exists(Path.Combine(_folder, "fake-ttft-cdf.png")));
        Assert.True(File.Exists(Path.Combine(_folder, "fake-e2el-cdf.png")));
    }

    [Fact]
    public async Task Serve_ChatWithoutUsage_CountsContentChunksAndCacheHeaders()
    {
        await using var server = new FakeOpenAiServer { SendsUsage = false, CacheHeader = "MISS", FirstChunkDelay = TimeSpan.FromMilliseconds(50) };
        await server.StartAsync();

        var (exitCode, result) = await RunAsync(server,
            "--endpoint", "chat", "--model", "m", "--num-prompts", "4", "--warmup", "0", "--request-rate", "50", "--random-input-len", "10");

        Assert.Equal(0, exitCode);
        BenchmarkMetrics m = Assert.Single(result.Runs).Metrics;
        Assert.Equal(4, m.Completed);
        Assert.Equal(0, m.UsageReported);
        Assert.Equal(4 * 5, m.TotalOutputTokens); // the role-only first chunk is not content
        Assert.Equal(4 * 10, m.TotalInputTokens); // the dataset's estimate
        Assert.Equal(4, m.Cache["MISS"]);
        Assert.True(m.Ttft.Median >= 50);
        Assert.All(server.Requests, body => Assert.Equal("user", body["messages"]![0]!["role"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Serve_RefusedRequests_AreFailuresWithTheirMessage()
    {
        await using var server = new FakeOpenAiServer { RefuseEvery = 2, FirstChunkDelay = TimeSpan.FromMilliseconds(10) };
        await server.StartAsync();

        var (exitCode, result) = await RunAsync(server, "--num-prompts", "6", "--warmup", "0", "--max-concurrency", "1", "--request-rate", "20,1000", "--plot-dir", _folder, "--plot-format", "svg");

        Assert.Equal(0, exitCode);
        Assert.Equal(2, result.Runs.Count);
        Assert.True(File.Exists(Path.Combine(_folder, "fake-throughput-vs-rate.svg")));
        Assert.True(File.Exists(Path.Combine(_folder, "fake-ttft-vs-rate.svg")));
        Assert.All(result.Runs, run =>
        {
            Assert.Equal(3, run.Metrics.Completed);
            Assert.Equal(3, run.Metrics.Failed);
            Assert.Equal(3, run.Metrics.Errors["HTTP 429: slow down"]);
        });
    }

    [Fact]
    public async Task Serve_StreamSlowerThanTimeout_IsAFailureNotAHang()
    {
        await using var server = new FakeOpenAiServer { FirstChunkDelay = TimeSpan.FromSeconds(5) };
        await server.StartAsync();

        var (exitCode, result) = await RunAsync(server, "--num-prompts", "2", "--warmup", "0", "--timeout", "0.5");

        Assert.Equal(1, exitCode); // nothing completed
        BenchmarkMetrics m = Assert.Single(result.Runs).Metrics;
        Assert.Equal(2, m.Failed);
        Assert.StartsWith("timed out", Assert.Single(m.Errors).Key, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("1,2,4,8", new[] { 1.0, 2, 4, 8 })]
    [InlineData("inf", new[] { double.PositiveInfinity })]
    [InlineData(" 0.5 , INF ", new[] { 0.5, double.PositiveInfinity })]
    public void ParseRates_ListsAndInf(string text, double[] expected) => Assert.Equal(expected, BenchServeCommand.ParseRates(text));

    [Theory]
    [InlineData("0")]
    [InlineData("fast")]
    public void ParseRates_NotPositive_Throws(string text) => Assert.Throws<FormatException>(() => BenchServeCommand.ParseRates(text));
}
