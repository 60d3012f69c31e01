namespace LlmAspire.Cli.Benchmarking;

/// <summary>Order statistics as numpy computes them by default (<c>np.percentile(a, p)</c>, linear interpolation).</summary>
public static class Percentiles
{
    /// <summary>
    /// The <paramref name="percent"/>-th percentile of <paramref name="values"/> (any order): rank r = p/100 · (n − 1),
    /// then a[⌊r⌋] + (a[⌈r⌉] − a[⌊r⌋]) · (r − ⌊r⌋) over the sorted values. NaN when there are no values.
    /// </summary>
    public static double Of(IReadOnlyCollection<double> values, double percent)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentOutOfRangeException.ThrowIfLessThan(percent, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(percent, 100);
        if (values.Count == 0)
        {
            return double.NaN;
        }

        double[] sorted = [.. values];
        Array.Sort(sorted);
        return OfSorted(sorted, percent);
    }

    /// <summary>As <see cref="Of"/>, for values already sorted ascending.</summary>
    public static double OfSorted(IReadOnlyList<double> sorted, double percent)
    {
        ArgumentNullException.ThrowIfNull(sorted);
        if (sorted.Count == 0)
        {
            return double.NaN;
        }

        double rank = percent / 100.0 * (sorted.Count - 1);
        int lower = (int)Math.Floor(rank);
        int upper = (int)Math.Ceiling(rank);
        return sorted[lower] + ((sorted[upper] - sorted[lower]) * (rank - lower));
    }
}
