using System.Text;

namespace LlmAspire.ModelServer.Telemetry.Prometheus;

/// <summary>A counter family: values only go up. Name it with the <c>_total</c> suffix, as exposed.</summary>
internal sealed class PrometheusCounter(string name, string help, params string[] labelNames)
    : PrometheusFamily<PrometheusCounter.Series>(name, help, "counter", labelNames)
{
    protected override Series CreateSeries() => new();

    protected override void WriteSeries(StringBuilder text, string[] labelValues, Series series) =>
        WriteSample(text, Name, labelValues, null, null, series.Value);

    /// <summary>One labelled counter.</summary>
    internal sealed class Series
    {
        private AtomicDouble _value;

        public double Value => _value.Value;

        public void Inc(double amount = 1)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(amount);
            _value.Add(amount);
        }
    }
}
