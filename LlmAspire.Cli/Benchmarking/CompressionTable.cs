using System.Globalization;
using System.Text;

namespace LlmAspire.Cli.Benchmarking;

/// <summary>The markdown table of <c>bench quantization</c> (speed = 1 stream) and <c>bench compression</c> (also N streams and prefill).</summary>
internal static class CompressionTable
{
    /// <summary>The table, float32 (the first row) the yardstick of every ratio.</summary>
    public static string Format(IReadOnlyList<CompressionRow> rows, string modelName, int textTokens, CompressionSettings settings)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(settings);
        CompressionRow baseline = rows[0];
        bool streams = settings.Streams > 0, prefill = settings.PrefillTokens > 0;
        var sb = new StringBuilder();
        var c = CultureInfo.InvariantCulture;
        sb.Append(c, $"{modelName}: {CompressionBench.Prompts.Count} prompts x {settings.AgreementTokens} greedy tokens, KL over {textTokens} text tokens, decode {settings.DecodeTokens} tokens x {settings.Rounds} rounds");
        if (streams || prefill)
        {
            sb.Append(c, $"; {settings.Streams} streams x {settings.DecodeTokens} tokens, prefill {settings.PrefillTokens} tokens; medians (min–max) over rounds");
        }

        sb.AppendLine();
        sb.AppendLine();
        sb.Append("| variant | model bytes | % of fp32 | decode tok/s, median step (p10) | × fp32 |");
        var align = new StringBuilder("|---|---:|---:|---:|---:|");
        if (streams)
        {
            sb.Append(c, $" decode tok/s, {settings.Streams} streams | × fp32 |");
            align.Append("---:|---:|");
        }

        if (prefill)
        {
            sb.Append(c, $" prefill tok/s, {settings.PrefillTokens} tokens | × fp32 |");
            align.Append("---:|---:|");
        }

        sb.AppendLine(" greedy prefix agreement | prompts kept whole | teacher-forced top-1 | mean KL (nats/token) | perplexity |");
        sb.AppendLine(align.Append("---:|---:|---:|---:|---:|").ToString());
        foreach (CompressionRow e in rows)
        {
            double median = Median(e.StepSeconds);
            sb.Append(c, $"| {e.Name} | {e.Bytes:N0} | {100.0 * e.Bytes / baseline.Bytes:F1} % | {1 / median:F1} ({1 / Percentiles.Of(e.StepSeconds, 10):F1}) | {Median(baseline.StepSeconds) / median:F2} |");
            if (streams)
            {
                sb.Append(c, $" {Spread(e.StreamSpeeds)} | {Median(e.StreamSpeeds) / Median(baseline.StreamSpeeds):F2} |");
            }

            if (prefill)
            {
                sb.Append(c, $" {Spread(e.PrefillSpeeds)} | {Median(e.PrefillSpeeds) / Median(baseline.PrefillSpeeds):F2} |");
            }

            sb.AppendLine(c, $" {e.PrefixAgreement:P1} | {e.WholePrompts}/{CompressionBench.Prompts.Count} | {e.TeacherForcedAgreement:P1} | {e.MeanKl:G3} | {e.Perplexity:F3} |");
        }

        return sb.ToString();
    }

    private static double Median(List<double> values) => Percentiles.Of(values, 50);

    /// <summary>"median (min–max)", or the value alone after one round.</summary>
    private static string Spread(List<double> values)
    {
        var c = CultureInfo.InvariantCulture;
        return values.Count > 1
            ? string.Create(c, $"{Median(values):F0} ({values.Min():F0}–{values.Max():F0})")
            : string.Create(c, $"{Median(values):F0}");
    }
}
