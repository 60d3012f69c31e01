using Aspire.Hosting;
using Aspire.Hosting.Testing;
using LlmAspire.Cli.Benchmarking;
using LlmAspire.Tests.Inference;
using Xunit.Abstractions;

namespace LlmAspire.Tests.AppHost;

/// <summary>
/// A short <c>bench soak</c> through the running topology: plain, streamed, dropped and invalid requests, then every
/// model server back to nothing running, nothing waiting and no KV row held (a dropped stream must free its row).
/// </summary>
[Collection(AspireAppCollection.Name)]
public sealed class SoakTests(AspireAppFixture fixture, ITestOutputHelper output)
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromMinutes(3);

    [Stories260KFact]
    public async Task Soak_FourHundredMixedRequests_FailNoneAndLeaveEveryServerIdle()
    {
        var settings = new SoakSettings(
            fixture.App.GetEndpoint("gateway", "http"),
            [.. Enumerable.Range(0, AspireAppFixture.ModelServerCount).Select(i => fixture.App.GetEndpoint(AspireAppFixture.ModelServerName(i), "http"))],
            Pids: [],
            Requests: 400,
            Concurrency: 8,
            Checkpoint: 100,
            Seed: 7,
            Timeout: TimeSpan.FromSeconds(30),
            SettleTimeout: TimeSpan.FromSeconds(20));

        var result = await SoakBenchmark.RunAsync(settings, progress: null, CancellationToken.None).WaitAsync(s_timeout);

        output.WriteLine(result.Format());
        Assert.True(result.NoFailures, string.Join(Environment.NewLine, result.Failures));
        Assert.All(Enum.GetNames<SoakRequestKind>(), kind => Assert.True(result.Counts.ContainsKey(kind.ToLowerInvariant()), $"no {kind} request"));
        Assert.True(result.Counts["cancelled"].GetValueOrDefault(SoakRunner.Cancelled) > 0, "no stream was dropped mid-way");
        Assert.All(result.Checkpoints[^1].Gauges, gauges => Assert.True(gauges.IsIdle, $"{gauges} after the soak"));
    }
}
