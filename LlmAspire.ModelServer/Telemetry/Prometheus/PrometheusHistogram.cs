using System.Text;

namespace LlmAspire.ModelServer.Telemetry.Prometheus;

/// <summary>
/// A histogram family with fixed upper bounds: each series writes cumulative <c>_bucket{le}</c> samples ending in
/// <c>+Inf</c>, then <c>_sum</c> and <c>_count</c> (the <c>+Inf</c> bucket's value, so the two always agree).
/// </summary>
internal sealed class PrometheusHistogram : PrometheusFamily<PrometheusHistogram.Series>
{
    private readonly double[] _bounds;
    private readonly string[] _boundLabels;

    public PrometheusHistogram(string name, string help, IReadOnlyList<double> buckets, params string[] labelNames)
        : base(name, help, "histogram", labelNames)
    {
        ArgumentNullException.ThrowIfNull(buckets);
        if (buckets.Count == 0 || buckets.Zip(buckets.Skip(1)).Any(pair => !(pair.First < pair.Second)) || buckets.Any(double.IsInfinity))
        {
            throw new ArgumentException("Buckets must be finite and strictly increasing.", nameof(buckets));
        }

        _bounds = [.. buckets];
        _boundLabels = [.. _bounds.Select(PrometheusText.FormatValue), "+Inf"];
    }

    protected override Series CreateSeries() => new(_bounds);

    protected override void WriteSeries(StringBuilder text, string[] labelValues, Series series)
    {
        var counts = series.Counts();
        long cumulative = 0;
        for (var i = 0; i < counts.Length; i++)
        {
            cumulative += counts[i];
            WriteSample(text, Name + "_bucket", labelValues, "le", _boundLabels[i], cumulative);
        }

        WriteSample(text, Name + "_sum", labelValues, null, null, series.Sum);
        WriteSample(text, Name + "_count", labelValues, null, null, cumulative);
    }

    /// <summary>One labelled histogram.</summary>
    internal sealed class Series(double[] bounds)
    {
        // One slot per bound, then one for values above the last.
        private readonly long[] _counts = new long[bounds.Length + 1];
        private AtomicDouble _sum;

        public double Sum => _sum.Value;

        public void Observe(double value)
        {
            var slot = Array.BinarySearch(bounds, value);
            Interlocked.Increment(ref _counts[slot >= 0 ? slot : ~slot]);
            _sum.Add(value);
        }

        public long[] Counts()
        {
            var counts = new long[_counts.Length];
            for (var i = 0; i < counts.Length; i++)
            {
                counts[i] = Interlocked.Read(ref _counts[i]);
            }

            return counts;
        }
    }
}
