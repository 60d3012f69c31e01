using System.Globalization;

namespace LlmAspire.Bench.Peers;

/// <summary>
/// Throughput against streams: for each model and precision with at least two stream counts measured at the first
/// <c>--threads</c> value, every peer's median tokens/s per stream count, drawn as <c>sweep-&lt;key&gt;.svg</c>.
/// </summary>
internal static class Sweep
{
    /// <summary>One plot: the model and precision, its title and every peer's (streams, median tokens/s) points.</summary>
    internal sealed record Chart(string Key, string Title, IReadOnlyList<(string Peer, IReadOnlyList<(double X, double Y)> Points)> Series)
    {
        /// <summary>The SVG's name, next to peers.md.</summary>
        public string FileName => $"sweep-{Key}.svg";
    }

    /// <summary>The charts the rows give (none when no model has two stream counts).</summary>
    public static IReadOnlyList<Chart> Charts(IReadOnlyList<RowResult> rows, int threads)
    {
        var charts = new List<Chart>();
        foreach (IGrouping<string, RowResult> group in rows.Where(r => r.Workload.InSweep && r.Threads == threads).GroupBy(r => r.Workload.SweepKey))
        {
            if (group.Select(r => r.Workload.Streams).Distinct().Count() < 2)
            {
                continue;
            }

            var series = Report.Peers
                .Select(peer => (peer, (IReadOnlyList<(double X, double Y)>)[.. group
                    .Where(r => r.Samples.TryGetValue(peer, out List<double>? samples) && samples.Count > 0)
                    .Select(r => ((double)r.Workload.Streams, Report.Median(r.Samples[peer])))]))
                .Where(s => s.Item2.Count > 0)
                .ToList();
            string model = group.Key switch
            {
                "100m-fp32" => "100M fp32",
                "100m-int8" => "100M int8",
                _ => "stories260K",
            };
            charts.Add(new Chart(group.Key, string.Create(CultureInfo.InvariantCulture, $"{model}: tokens/s against streams ({threads} thread{(threads == 1 ? string.Empty : "s")})"), series));
        }

        return charts;
    }

    /// <summary>Writes every chart's SVG into <paramref name="folder"/>; returns the paths.</summary>
    public static IReadOnlyList<string> Write(string folder, IReadOnlyList<Chart> charts)
    {
        var written = new List<string>();
        foreach (Chart chart in charts)
        {
            string path = Path.Combine(folder, chart.FileName);
            File.WriteAllText(path, SvgLineChart.Render(chart.Title, "concurrent streams (log2)", "generated tokens/s, all streams", [.. Workload.SweepStreams.Select(s => (double)s)], chart.Series));
            written.Add(path);
        }

        return written;
    }
}
