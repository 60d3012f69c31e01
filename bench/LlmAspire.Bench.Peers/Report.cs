using System.Globalization;
using System.Text;
using LlmAspire.Inference.Models;

namespace LlmAspire.Bench.Peers;

/// <summary>The markdown table: median and range of tokens/s per cell, the share of read bandwidth, the ratio to the best peer.</summary>
internal static class Report
{
    /// <summary>The peers in column order.</summary>
    public static IReadOnlyList<string> Peers { get; } = ["LlmAspire", "llama.cpp", "ORT GenAI 0.18"];

    /// <summary>Renders the whole report.</summary>
    public static string Render(IReadOnlyList<RowResult> rows, IReadOnlyDictionary<int, double> bandwidth, string header, LlamaConfig config100M)
    {
        var text = new StringBuilder();
        var invariant = CultureInfo.InvariantCulture;
        text.AppendLine(header).AppendLine();
        text.Append("Read bandwidth (sum over a 1 GiB array, best of 5): ")
            .AppendLine(string.Join(", ", bandwidth.OrderBy(b => b.Key).Select(b => string.Create(invariant, $"{b.Value / 1e9:F1} GB/s on {b.Key} thread{(b.Key == 1 ? string.Empty : "s")}"))))
            .AppendLine();
        text.AppendLine("Cells: median tokens/s over the rounds (min–max); decode rows count generated tokens over wall time (short prompt's prefill included), prefill rows prompt tokens over the prefill's time.")
            .AppendLine(string.Create(invariant, $"Bandwidth share (100M float32, 1 stream): {BytesPerToken(config100M) / 1e6:F0} MB of weights read per token × tokens/s ÷ the read bandwidth at that thread count."))
            .AppendLine();
        text.Append("| workload | threads | ").Append(string.Join(" | ", Peers)).AppendLine(" | LlmAspire ÷ best peer | greedy tokens shared with ours |");
        text.Append("|---|--:|").Append(string.Concat(Peers.Select(_ => "--:|"))).AppendLine("--:|---|");
        foreach (RowResult row in rows)
        {
            text.Append(invariant, $"| {row.Workload.Title} | {row.Threads} |");
            foreach (string peer in Peers)
            {
                text.Append(' ').Append(Cell(row, peer, bandwidth, config100M)).Append(" |");
            }

            double ours = Median(row.Samples.GetValueOrDefault(Peers[0]));
            double best = Peers.Skip(1).Select(p => Median(row.Samples.GetValueOrDefault(p))).DefaultIfEmpty(0).Max();
            text.Append(' ').Append(ours > 0 && best > 0 ? (ours / best).ToString("F2", invariant) + "×" : "–").Append(" |");
            text.Append(' ').Append(row.Agreement.Count == 0 ? "–" : string.Join(", ", row.Agreement.Select(a => $"{a.Key}: {a.Value}"))).AppendLine(" |");
        }

        text.AppendLine().AppendLine("Every round, in the order run:").AppendLine();
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

    private static double Median(List<double>? samples)
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
