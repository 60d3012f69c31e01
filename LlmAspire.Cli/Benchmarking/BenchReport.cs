using System.Globalization;
using System.Text;

namespace LlmAspire.Cli.Benchmarking;

/// <summary>The text report, laid out as vLLM's benchmark_serving prints it, and the side-by-side table of several results.</summary>
public static class BenchReport
{
    public static string Format(BenchRun run, GoodputSlo? slo)
    {
        ArgumentNullException.ThrowIfNull(run);
        BenchmarkMetrics m = run.Metrics;
        var text = new StringBuilder();
        void Row(string name, string value) => text.AppendLine(CultureInfo.InvariantCulture, $"{name,-40}{value,12}");
        void Number(string name, double value, string format = "F2") => Row(name, value.ToString(format, CultureInfo.InvariantCulture));
        string rate = double.IsPositiveInfinity(run.RequestRate) ? "inf" : run.RequestRate.ToString("G", CultureInfo.InvariantCulture);
        text.AppendLine("============ Serving Benchmark Result ============");
        Row("Request rate (req/s):", rate + (run.MaxConcurrency is { } c ? $", max concurrency {c}" : string.Empty));
        Row("Successful requests:", m.Completed.ToString(CultureInfo.InvariantCulture));
        Row("Failed requests:", m.Failed.ToString(CultureInfo.InvariantCulture));
        if (m.Streamed > 0 && m.Streamed < m.Completed + m.Failed)
        {
            Row("Streamed requests:", m.Streamed.ToString(CultureInfo.InvariantCulture));
        }

        if (m.Failed > 0 || (m.Streamed > 0 && m.Streamed < m.Completed + m.Failed))
        {
            Row("Failed non-streamed requests:", m.FailedNonStreamed.ToString(CultureInfo.InvariantCulture));
            Row("Streams broken after they started:", m.StreamsBroken.ToString(CultureInfo.InvariantCulture));
            Row("Streams failed before they started:", m.StreamsFailedBeforeStart.ToString(CultureInfo.InvariantCulture));
        }
        Number("Benchmark duration (s):", m.DurationSeconds);
        Row("Total input tokens:", m.TotalInputTokens.ToString(CultureInfo.InvariantCulture));
        Row("Total generated tokens:", m.TotalOutputTokens.ToString(CultureInfo.InvariantCulture));
        Row("Token counts from server usage:", $"{m.UsageReported}/{m.Completed}");
        Number("Request throughput (req/s):", m.RequestThroughput);
        if (m.RequestGoodput is { } goodput)
        {
            Number("Request goodput (req/s):", goodput);
        }

        Number("Output token throughput (tok/s):", m.OutputThroughput);
        Number("Total token throughput (tok/s):", m.TotalTokenThroughput);
        if (m.Cache.Count > 0)
        {
            Row("X-Cache:", string.Join(", ", m.Cache.Select(kv => $"{kv.Key} {kv.Value}")));
        }

        void Section(string title, string name, LatencySummary s)
        {
            text.AppendLine(new string('-', 15) + $" {title} ".PadRight(22, '-') + new string('-', 15));
            Number($"Mean {name} (ms):", s.Mean);
            Number($"Median {name} (ms):", s.Median);
            Number($"P90 {name} (ms):", s.P90);
            Number($"P99 {name} (ms):", s.P99);
        }

        Section("Time to First Token", "TTFT", m.Ttft);
        Section("Time per Output Token (excl. 1st token)", "TPOT", m.Tpot);
        Section("Inter-token Latency", "ITL", m.Itl);
        Section("End-to-end Latency", "E2EL", m.E2e);
        if (m.Errors.Count > 0)
        {
            text.AppendLine("Errors:");
            foreach ((string message, int count) in m.Errors.Take(10))
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"  {count,5} × {message}");
            }
        }

        text.AppendLine(new string('=', 52));
        if (slo is { IsEmpty: false })
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"Goodput SLOs (ms): ttft {slo.TtftMs?.ToString(CultureInfo.InvariantCulture) ?? "-"}, tpot {slo.TpotMs?.ToString(CultureInfo.InvariantCulture) ?? "-"}, e2el {slo.E2eMs?.ToString(CultureInfo.InvariantCulture) ?? "-"}");
        }

        return text.ToString();
    }

    /// <summary>A Markdown table with one row per run of every result: label, load, throughputs and latency medians/p99s.</summary>
    public static string Table(IEnumerable<BenchResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        var text = new StringBuilder();
        text.AppendLine("| label | rate (req/s) | conc. | ok/failed | req/s | out tok/s | total tok/s | TTFT median / p99 (ms) | TPOT median / p99 (ms) | ITL median (ms) | E2E median / p99 (ms) |");
        text.AppendLine("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
        foreach (BenchResult result in results)
        {
            foreach (BenchRun run in result.Runs)
            {
                BenchmarkMetrics m = run.Metrics;
                string rate = double.IsPositiveInfinity(run.RequestRate) ? "inf" : run.RequestRate.ToString("G", CultureInfo.InvariantCulture);
                text.AppendLine(CultureInfo.InvariantCulture,
                    $"| {result.Label} | {rate} | {run.MaxConcurrency?.ToString(CultureInfo.InvariantCulture) ?? "-"} | {m.Completed}/{m.Failed} | {m.RequestThroughput:F2} | {m.OutputThroughput:F1} | {m.TotalTokenThroughput:F1} | {m.Ttft.Median:F1} / {m.Ttft.P99:F1} | {m.Tpot.Median:F2} / {m.Tpot.P99:F2} | {m.Itl.Median:F2} | {m.E2e.Median:F1} / {m.E2e.P99:F1} |");
            }
        }

        return text.ToString();
    }
}
