using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace LlmAspire.Cli.Benchmarking;

/// <summary>The outcome of <c>bench soak</c>: counts by kind and outcome, the checkpoints, and the three checks.</summary>
public sealed record SoakResult
{
    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = true };

    [JsonPropertyName("date")]
    public DateTimeOffset Date { get; init; } = DateTimeOffset.UtcNow;

    [JsonPropertyName("machine")]
    public string Machine { get; init; } = $"{Environment.MachineName}, {Environment.ProcessorCount} cores, load {LoadAverage()}";

    [JsonPropertyName("gateway")]
    public required string Gateway { get; init; }

    [JsonPropertyName("servers")]
    public required IReadOnlyList<string> Servers { get; init; }

    [JsonPropertyName("requests")]
    public int Requests { get; init; }

    [JsonPropertyName("concurrency")]
    public int Concurrency { get; init; }

    [JsonPropertyName("seed")]
    public int Seed { get; init; }

    [JsonPropertyName("elapsed_seconds")]
    public double ElapsedSeconds { get; init; }

    /// <summary>Outcomes per request kind (<see cref="SoakRunner"/> names them).</summary>
    [JsonPropertyName("counts")]
    public required IReadOnlyDictionary<string, IReadOnlyDictionary<string, int>> Counts { get; init; }

    [JsonPropertyName("statuses")]
    public required IReadOnlyDictionary<string, int> Statuses { get; init; }

    [JsonPropertyName("failures")]
    public IReadOnlyList<string> Failures { get; init; } = [];

    [JsonPropertyName("checkpoints")]
    public required IReadOnlyList<SoakCheckpoint> Checkpoints { get; init; }

    [JsonPropertyName("rss_tolerance")]
    public double RssTolerance { get; init; }

    /// <summary>No request failed.</summary>
    [JsonPropertyName("no_failures")]
    public bool NoFailures => Counts.Values.All(outcomes => outcomes.GetValueOrDefault(SoakRunner.Failed) == 0);

    /// <summary>Every server idle at the end: nothing running or waiting, no KV row held.</summary>
    [JsonPropertyName("gauges_idle")]
    public bool GaugesIdle => Checkpoints.Count > 0 && Checkpoints[^1].Gauges.All(g => g.IsIdle);

    /// <summary>Every process's resident memory at the end within <see cref="RssTolerance"/> of the first checkpoint's.</summary>
    [JsonPropertyName("rss_within_tolerance")]
    public bool RssWithinTolerance => RssGrowth.Values.All(growth => growth is { } g && g <= RssTolerance);

    /// <summary>Per process, the growth of resident memory from the first checkpoint to the end (0.05 = 5 %); null when unread.</summary>
    [JsonPropertyName("rss_growth")]
    public IReadOnlyDictionary<string, double?> RssGrowth =>
        Checkpoints.Count < 2
            ? new Dictionary<string, double?>()
            : Checkpoints[0].Processes.ToDictionary(
                first => first.Pid.ToString(CultureInfo.InvariantCulture),
                first => Checkpoints[^1].Processes.FirstOrDefault(last => last.Pid == first.Pid)?.RssKiB is { } end && first.RssKiB is > 0 and var start
                    ? (double?)((end / (double)start) - 1)
                    : null);

    [JsonPropertyName("passed")]
    public bool Passed => NoFailures && GaugesIdle && RssWithinTolerance;

    public async Task WriteAsync(string path, CancellationToken cancellationToken)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is not null)
        {
            Directory.CreateDirectory(folder);
        }

        await using var file = File.Create(path);
        await JsonSerializer.SerializeAsync(file, this, s_json, cancellationToken);
    }

    /// <summary>The report as Markdown tables: outcomes by kind, statuses, gauges and memory at each checkpoint, the checks.</summary>
    public string Format()
    {
        var text = new StringBuilder();
        var outcomes = Counts.Values.SelectMany(o => o.Keys).Distinct().Order(StringComparer.Ordinal).ToList();
        text.AppendLine(CultureInfo.InvariantCulture, $"Soak: {Requests} requests, {Concurrency} at a time, through {Gateway}, in {ElapsedSeconds:F1} s ({Requests / Math.Max(ElapsedSeconds, 1e-9):F0} req/s); seed {Seed}; {Machine}");
        text.AppendLine();
        text.AppendLine("| kind | " + string.Join(" | ", outcomes) + " | total |");
        text.AppendLine("|---|" + string.Concat(outcomes.Select(_ => "---:|")) + "---:|");
        foreach (var (kind, counts) in Counts.OrderBy(k => k.Key, StringComparer.Ordinal))
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"| {kind} | {string.Join(" | ", outcomes.Select(o => counts.GetValueOrDefault(o)))} | {counts.Values.Sum()} |");
        }

        text.AppendLine();
        text.AppendLine("HTTP statuses: " + string.Join(", ", Statuses.Select(s => $"{s.Key} × {s.Value}")));
        text.AppendLine();
        // Gauges after the first and the last phase; memory after every phase.
        text.AppendLine("| after | server | running | waiting | kv_cache_usage_perc |");
        text.AppendLine("|---:|---|---:|---:|---:|");
        foreach (var checkpoint in Checkpoints.Take(1).Concat(Checkpoints.Skip(1).TakeLast(1)))
        {
            foreach (var g in checkpoint.Gauges)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"| {checkpoint.AfterRequests} | {g.Server} | {g.Running} | {g.Waiting} | {g.KvCacheUsage} |");
            }
        }

        if (Checkpoints.Count > 0 && Checkpoints[0].Processes.Count > 0)
        {
            var processes = Checkpoints[0].Processes;
            text.AppendLine();
            text.AppendLine("| RSS (MiB) after | " + string.Join(" | ", processes.Select(p => $"{p.Pid} {p.Name}")) + " |");
            text.AppendLine("|---:|" + string.Concat(processes.Select(_ => "---:|")));
            foreach (var checkpoint in Checkpoints)
            {
                var cells = processes.Select(process => checkpoint.Processes.FirstOrDefault(p => p.Pid == process.Pid)?.RssKiB is { } kib ? (kib / 1024.0).ToString("F1", CultureInfo.InvariantCulture) : "—");
                text.AppendLine(CultureInfo.InvariantCulture, $"| {checkpoint.AfterRequests} | {string.Join(" | ", cells)} |");
            }

            var growth = processes.Select(process => RssGrowth.GetValueOrDefault(process.Pid.ToString(CultureInfo.InvariantCulture)) is { } g ? g.ToString("+0.0 %;-0.0 %", CultureInfo.InvariantCulture) : "—");
            text.AppendLine(CultureInfo.InvariantCulture, $"| growth from {Checkpoints[0].AfterRequests} | {string.Join(" | ", growth)} |");
        }

        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"no failures: {Verdict(NoFailures)}; gauges idle at the end: {Verdict(GaugesIdle)}; RSS within {RssTolerance:P0} of the first checkpoint: {Verdict(RssWithinTolerance)}");
        foreach (var failure in Failures)
        {
            text.AppendLine("  failed: " + failure);
        }

        return text.ToString();
    }

    private static string Verdict(bool passed) => passed ? "yes" : "NO";

    private static string LoadAverage()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "?";
        }
    }
}
