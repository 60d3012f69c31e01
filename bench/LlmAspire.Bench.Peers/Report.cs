using System.Globalization;
using System.Text;
using LlmAspire.Inference.Models;

namespace LlmAspire.Bench.Peers;

/// <summary>The markdown table: median and range of tokens/s per cell, the share of read bandwidth, the ratio to the best peer.</summary>
internal static class Report
{
    /// <summary>Our engine, the first column and the one every ratio divides.</summary>
    public const string Ours = "LlmAspire";

    /// <summary>Our engine with ONNX Runtime's workers spinning between the operators of a step (only with <c>--ours-within-run</c>).</summary>
    public const string OursWithinRun = "LlmAspire, spinning WithinRun";

    /// <summary>Our engine with our kernels on the session's own briefly spinning workers (only with <c>--ours-brief</c>).</summary>
    public const string OursBrief = "LlmAspire, spinning Brief";

    /// <summary>Our engine's columns: every ratio is of one of them to the best of the others.</summary>
    private static readonly string[] OursColumns = [Ours, OursWithinRun, OursBrief];

    /// <summary>llama.cpp's parallel decoding in one context.</summary>
    public const string LlamaCpp = "llama.cpp";

    /// <summary>ONNX Runtime GenAI, one static batch.</summary>
    public const string GenAi = "ORT GenAI 0.18";

    /// <summary>ONNX Runtime GenAI, one generator per stream on a thread each (multi-stream rows).</summary>
    public const string GenAiPerStream = "ORT GenAI per-stream";

    /// <summary>llama2.c's run.c (stories260K, one stream; only with <c>--runc</c>/<c>--runc-omp</c>).</summary>
    public const string RunC = "llama2.c run.c";

    /// <summary>The peers in column order; all but ours, llama.cpp and GenAI get a column only when some row ran (or tried) them.</summary>
    public static IReadOnlyList<string> Peers { get; } = [Ours, OursWithinRun, OursBrief, LlamaCpp, GenAi, GenAiPerStream, RunC];

    /// <summary>The columns every report has.</summary>
    private static readonly string[] AlwaysShown = [Ours, LlamaCpp, GenAi];

    /// <summary>Renders the whole report; <paramref name="charts"/> are the sweep plots written next to it.</summary>
    public static string Render(IReadOnlyList<RowResult> rows, IReadOnlyDictionary<int, double> bandwidth, string header, LlamaConfig config100M, IReadOnlyList<Sweep.Chart> charts)
    {
        string[] peers = [.. Peers.Where(p => AlwaysShown.Contains(p) || rows.Any(r => r.Samples.ContainsKey(p) || r.Failures.ContainsKey(p)))];
        string[] mine = [.. OursColumns.Where(peers.Contains)];
        var footnotes = new List<string>();
        var text = new StringBuilder();
        var invariant = CultureInfo.InvariantCulture;
        text.AppendLine(header).AppendLine();
        text.Append("Read bandwidth (sum over a 1 GiB array, best of 5): ")
            .AppendLine(string.Join(", ", bandwidth.OrderBy(b => b.Key).Select(b => string.Create(invariant, $"{b.Value / 1e9:F1} GB/s on {b.Key} thread{(b.Key == 1 ? string.Empty : "s")}"))))
            .AppendLine();
        text.AppendLine("Cells: median tokens/s over the rounds (min–max); decode rows count generated tokens over wall time (short prompt's prefill included), prefill rows prompt tokens over the prefill's time.")
            .AppendLine(string.Create(invariant, $"Bandwidth share (100M float32, 1 stream): {BytesPerToken(config100M) / 1e6:F0} MB of weights read per token × tokens/s ÷ the read bandwidth at that thread count."))
            .AppendLine();
        text.Append("| workload | threads | ").Append(string.Join(" | ", peers)).Append(" | LlmAspire ÷ best peer |")
            .Append(string.Concat(mine.Skip(1).Select(m => $" LlmAspire {m[(m.LastIndexOf(' ') + 1)..]} ÷ best peer |"))).AppendLine(" greedy tokens shared with ours |");
        text.Append("|---|--:|").Append(string.Concat(peers.Select(_ => "--:|"))).Append(string.Concat(mine.Select(_ => "--:|"))).AppendLine("---|");
        foreach (RowResult row in rows)
        {
            text.Append(invariant, $"| {row.Workload.Title} | {row.Threads} |");
            foreach (string peer in peers)
            {
                string cell = Cell(row, peer, bandwidth, config100M);
                if (row.Failures.TryGetValue(peer, out string? why))
                {
                    footnotes.Add(string.Create(invariant, $"[{footnotes.Count + 1}] {peer}, {row.Workload.Id} at {row.Threads} thread(s): {why}"));
                    cell += string.Create(invariant, $" [{footnotes.Count}]");
                }

                text.Append(' ').Append(cell).Append(" |");
            }

            double best = peers.Where(p => !OursColumns.Contains(p)).Select(p => Median(row.Samples.GetValueOrDefault(p))).DefaultIfEmpty(0).Max();
            foreach (string column in mine)
            {
                double ours = Median(row.Samples.GetValueOrDefault(column));
                text.Append(' ').Append(ours > 0 && best > 0 ? (ours / best).ToString("F2", invariant) + "×" : "–").Append(" |");
            }

            text.Append(' ').Append(row.Agreement.Count == 0 ? "–" : string.Join(", ", row.Agreement.Select(a => $"{a.Key}: {a.Value}"))).AppendLine(" |");
        }

        text.AppendLine();
        footnotes.ForEach(f => text.AppendLine(f).AppendLine());
        if (charts.Count > 0)
        {
            text.AppendLine("## Throughput against streams").AppendLine();
            text.AppendLine("Median generated tokens/s of all streams from the rows above (first thread count); a missing point is a cell with a footnote.").AppendLine();
        }

        foreach (Sweep.Chart chart in charts)
        {
            string[] series = [.. chart.Series.Select(s => s.Peer)];
            text.AppendLine(string.Create(invariant, $"![{chart.Title}]({chart.FileName})")).AppendLine();
            text.Append("| streams | ").Append(string.Join(" | ", series)).AppendLine(" |");
            text.Append("|--:|").AppendLine(string.Concat(series.Select(_ => "--:|")));
            foreach (double streams in chart.Series.SelectMany(s => s.Points).Select(p => p.X).Distinct().Order())
            {
                text.Append(invariant, $"| {streams} |");
                foreach ((_, IReadOnlyList<(double X, double Y)> points) in chart.Series)
                {
                    (double X, double Y)[] at = [.. points.Where(p => p.X == streams)];
                    text.Append(' ').Append(at.Length == 0 ? "–" : at[0].Y.ToString("F0", invariant)).Append(" |");
                }

                text.AppendLine();
            }

            text.AppendLine();
        }

        text.AppendLine("Every round, in the order run:").AppendLine();
        foreach (RowResult row in rows)
        {
            foreach ((string peer, List<double> samples) in row.Samples)
            {
                text.AppendLine(string.Create(invariant, $"- {row.Workload.Id} t{row.Threads} {peer}: {string.Join(", ", samples.Select(s => s.ToString("F0", invariant)))}"));
            }
        }

        return text.ToString();
    }

    /// <summary>Float32 bytes of every weight (the tied classifier once): what one decode step reads.</summary>
    public static double BytesPerToken(LlamaConfig config) => config.ParameterCount * 4.0;

    private static string Cell(RowResult row, string peer, IReadOnlyDictionary<int, double> bandwidth, LlamaConfig config100M)
    {
        if (!row.Samples.TryGetValue(peer, out List<double>? samples) || samples.Count == 0)
        {
            return "–";
        }

        var invariant = CultureInfo.InvariantCulture;
        string cell = string.Create(invariant, $"{Median(samples):F0} ({samples.Min():F0}–{samples.Max():F0})");
        if (row.Workload.BandwidthBound && bandwidth.TryGetValue(row.Threads, out double bytesPerSecond))
        {
            cell += string.Create(invariant, $", {100 * BytesPerToken(config100M) * Median(samples) / bytesPerSecond:F0} %");
        }

        return cell;
    }

    /// <summary>The median of <paramref name="samples"/>; 0 when there are none.</summary>
    public static double Median(List<double>? samples)
    {
        if (samples is null || samples.Count == 0)
        {
            return 0;
        }

        double[] sorted = [.. samples.Order()];
        int mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }
}
