using System.Diagnostics;

namespace LlmAspire.Cli.Benchmarking;

/// <summary>
/// The soak, in phases of <see cref="SoakSettings.Checkpoint"/> requests, each followed by a settle and a reading
/// (gauges of every server, resident memory of every process). A service that leaks a KV row, a queue slot or memory
/// per request shows it as a gauge above 0 or as memory that keeps growing after the warm first phase.
/// </summary>
public static class SoakBenchmark
{
    public static async Task<SoakResult> RunAsync(SoakSettings settings, IProgress<int>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(settings.Requests);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(settings.Concurrency);
        var checkpoint = Math.Clamp(settings.Checkpoint, 1, settings.Requests);
        var timeout = settings.Timeout ?? TimeSpan.FromSeconds(60);
        var settle = settings.SettleTimeout ?? TimeSpan.FromSeconds(30);

        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = int.MaxValue, PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
        {
            BaseAddress = new Uri(settings.Gateway.ToString().TrimEnd('/') + "/"),
            Timeout = System.Threading.Timeout.InfiniteTimeSpan,
        };
        using var probe = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var runner = new SoakRunner(http, settings.Model, settings.MaxTokens, settings.Seed, timeout);
        var started = Stopwatch.GetTimestamp();
        var checkpoints = new List<SoakCheckpoint>();

        async Task PhaseAsync(int from, int to)
        {
            var offset = from;
            await runner.RunAsync(from, to, settings.Concurrency, progress is null ? null : new Progress<int>(done => progress.Report(offset + done)), cancellationToken);
            var gauges = await SoakGauges.SettleAsync(probe, settings.Servers, settle, cancellationToken);
            checkpoints.Add(new SoakCheckpoint(to, Stopwatch.GetElapsedTime(started).TotalSeconds, gauges, [.. settings.Pids.Select(SoakProcess.Read)]));
        }

        for (var from = 0; from < settings.Requests; from += checkpoint)
        {
            await PhaseAsync(from, Math.Min(settings.Requests, from + checkpoint));
        }

        return new SoakResult
        {
            Gateway = settings.Gateway.ToString(),
            Servers = [.. settings.Servers.Select(s => s.ToString())],
            Requests = settings.Requests,
            Concurrency = settings.Concurrency,
            Seed = settings.Seed,
            ElapsedSeconds = Stopwatch.GetElapsedTime(started).TotalSeconds,
            Counts = runner.Counts,
            Statuses = runner.Statuses,
            Failures = runner.Failures,
            Checkpoints = checkpoints,
            RssTolerance = settings.RssTolerance,
        };
    }
}
