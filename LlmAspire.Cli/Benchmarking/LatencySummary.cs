using System.Text.Json.Serialization;

namespace LlmAspire.Cli.Benchmarking;

/// <summary>Mean, median, standard deviation (population, as numpy's default), p90 and p99 of one latency metric, in milliseconds.</summary>
public sealed record LatencySummary(
    [property: JsonPropertyName("mean_ms")] double Mean,
    [property: JsonPropertyName("median_ms")] double Median,
    [property: JsonPropertyName("std_ms")] double Std,
    [property: JsonPropertyName("p90_ms")] double P90,
    [property: JsonPropertyName("p99_ms")] double P99,
    [property: JsonPropertyName("count")] int Count)
{
    /// <summary>The summary of <paramref name="valuesMs"/>; all NaN (written as null) with no values.</summary>
    public static LatencySummary From(IReadOnlyCollection<double> valuesMs)
    {
        ArgumentNullException.ThrowIfNull(valuesMs);
        if (valuesMs.Count == 0)
        {
            return new LatencySummary(double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, 0);
        }

        double[] sorted = [.. valuesMs];
        Array.Sort(sorted);
        double mean = sorted.Average();
        double std = Math.Sqrt(sorted.Sum(v => (v - mean) * (v - mean)) / sorted.Length);
        return new LatencySummary(mean, Percentiles.OfSorted(sorted, 50), std, Percentiles.OfSorted(sorted, 90), Percentiles.OfSorted(sorted, 99), sorted.Length);
    }
}
