using System.Text;

namespace LlmAspire.ModelServer.Telemetry.Prometheus;

/// <summary>A gauge family: values that are set.</summary>
internal sealed class PrometheusGauge(string name, string help, params string[] labelNames)
    : PrometheusFamily<PrometheusGauge.Series>(name, help, "gauge", labelNames)
{
    protected override Series CreateSeries() => new();

    protected override void WriteSeries(StringBuilder text, string[] labelValues, Series series) =>
        WriteSample(text, Name, labelValues, null, null, series.Value);

    /// <summary>One labelled gauge.</summary>
    internal sealed class Series
    {
        private AtomicDouble _value;

        public double Value => _value.Value;

        public void Set(double value) => _value.Set(value);
    }
}
