using System.Globalization;
using ScottPlot;

namespace LlmAspire.Cli.Benchmarking;

/// <summary>
/// Plots of <c>bench serve</c> results (ScottPlot 5): the cumulative distributions of TTFT, TPOT and E2E latency, one
/// line per run (or per result when comparing), and for a sweep of request rates the throughput and TTFT against the
/// offered rate. PNG unless the format is <c>svg</c>.
/// </summary>
public static class BenchPlots
{
    private const int Width = 720;
    private const int Height = 440;

    /// <summary>Writes the plots of <paramref name="series"/> (a name and its run each) into <paramref name="folder"/>; returns the paths written.</summary>
    public static IReadOnlyList<string> Write(string folder, string prefix, IReadOnlyList<(string Name, BenchRun Run)> series, string format = "png")
    {
        ArgumentNullException.ThrowIfNull(series);
        Directory.CreateDirectory(folder);
        var written = new List<string>();
        written.Add(Cdf(folder, prefix, "ttft", "Time to first token", series, r => [.. r.Requests.Where(o => o.Success).Select(o => o.TtftMs)], format));
        written.Add(Cdf(folder, prefix, "tpot", "Time per output token (excl. 1st)", series, r => [.. r.Requests.Select(o => o.TpotMs).OfType<double>()], format));
        written.Add(Cdf(folder, prefix, "e2el", "End-to-end latency", series, r => [.. r.Requests.Where(o => o.Success).Select(o => o.LatencyMs)], format));
        BenchRun[] finite = [.. series.Select(s => s.Run).Where(r => !double.IsPositiveInfinity(r.RequestRate))];
        if (series.Count > 1 && finite.Length == series.Count && finite.Select(r => r.RequestRate).Distinct().Count() == finite.Length)
        {
            written.AddRange(Sweep(folder, prefix, finite, format));
        }

        return written;
    }

    private static string Cdf(string folder, string prefix, string metric, string title, IReadOnlyList<(string Name, BenchRun Run)> series, Func<BenchRun, double[]> select, string format)
    {
        var plot = new Plot();
        foreach ((string name, BenchRun run) in series)
        {
            double[] values = select(run);
            if (values.Length == 0)
            {
                continue;
            }

            Array.Sort(values);
            double[] ys = [.. Enumerable.Range(1, values.Length).Select(i => (double)i / values.Length)];
            var line = plot.Add.ScatterLine(values, ys);
            line.LegendText = name;
            line.LineWidth = 2;
        }

        plot.Title($"{title} (CDF)");
        plot.XLabel("milliseconds");
        plot.YLabel("fraction of requests");
        plot.Axes.SetLimitsY(0, 1.02);
        plot.ShowLegend(Alignment.LowerRight);
        return Save(plot, Path.Combine(folder, $"{prefix}-{metric}-cdf"), format);
    }

    private static IEnumerable<string> Sweep(string folder, string prefix, BenchRun[] runs, string format)
    {
        double[] rates = [.. runs.Select(r => r.RequestRate)];
        var throughput = new Plot();
        var output = throughput.Add.Scatter(rates, [.. runs.Select(r => r.Metrics.OutputThroughput)]);
        output.LegendText = "output tokens/s";
        var total = throughput.Add.Scatter(rates, [.. runs.Select(r => r.Metrics.TotalTokenThroughput)]);
        total.LegendText = "total tokens/s";
        throughput.Title("Token throughput against request rate");
        throughput.XLabel("offered request rate (req/s)");
        throughput.YLabel("tokens/s");
        throughput.ShowLegend(Alignment.UpperLeft);
        yield return Save(throughput, Path.Combine(folder, $"{prefix}-throughput-vs-rate"), format);

        var ttft = new Plot();
        var median = ttft.Add.Scatter(rates, [.. runs.Select(r => r.Metrics.Ttft.Median)]);
        median.LegendText = "median TTFT";
        var p99 = ttft.Add.Scatter(rates, [.. runs.Select(r => r.Metrics.Ttft.P99)]);
        p99.LegendText = "p99 TTFT";
        ttft.Title("Time to first token against request rate");
        ttft.XLabel("offered request rate (req/s)");
        ttft.YLabel("milliseconds");
        ttft.ShowLegend(Alignment.UpperLeft);
        yield return Save(ttft, Path.Combine(folder, $"{prefix}-ttft-vs-rate"), format);
    }

    private static string Save(Plot plot, string pathWithoutExtension, string format)
    {
        if (string.Equals(format, "svg", StringComparison.OrdinalIgnoreCase))
        {
            string svg = pathWithoutExtension + ".svg";
            plot.SaveSvg(svg, Width, Height);
            return svg;
        }

        string png = pathWithoutExtension + ".png";
        plot.SavePng(png, Width, Height);
        return png;
    }

    /// <summary>A run's name in legends: its label, and its offered rate when there are several.</summary>
    public static string RunName(string label, BenchRun run, bool withRate)
    {
        ArgumentNullException.ThrowIfNull(run);
        if (!withRate)
        {
            return label;
        }

        string rate = double.IsPositiveInfinity(run.RequestRate) ? "inf" : run.RequestRate.ToString("G", CultureInfo.InvariantCulture);
        return $"{label} @ {rate} req/s";
    }
}
