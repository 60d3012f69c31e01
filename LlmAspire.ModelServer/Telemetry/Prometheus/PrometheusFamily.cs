using System.Collections.Concurrent;
using System.Text;
using System.Text.RegularExpressions;

namespace LlmAspire.ModelServer.Telemetry.Prometheus;

/// <summary>
/// A metric family in the Prometheus text format (0.0.4): its <c># HELP</c> and <c># TYPE</c> lines and one series per
/// label set. Names may hold colons, as vLLM's do (<c>vllm:num_requests_running</c>); the .NET Prometheus clients and
/// OpenTelemetry forbid them, hence this small writer. Series are made once (<see cref="WithLabels"/>) and kept, so
/// updating one is a few atomic operations.
/// </summary>
/// <typeparam name="TSeries">The series type: a counter, gauge or histogram value.</typeparam>
internal abstract partial class PrometheusFamily<TSeries> : IPrometheusFamily
    where TSeries : class
{
    private const char KeySeparator = '\u001f';

    private readonly ConcurrentDictionary<string, (string[] Values, TSeries Series)> _series = new(StringComparer.Ordinal);

    protected PrometheusFamily(string name, string help, string type, IReadOnlyList<string> labelNames)
    {
        if (!MetricName().IsMatch(name))
        {
            throw new ArgumentException($"'{name}' is not a Prometheus metric name.", nameof(name));
        }

        if (labelNames.FirstOrDefault(label => !LabelName().IsMatch(label) || label.StartsWith("__", StringComparison.Ordinal)) is { } bad)
        {
            throw new ArgumentException($"'{bad}' is not a Prometheus label name.", nameof(labelNames));
        }

        Name = name;
        Help = help;
        Type = type;
        LabelNames = labelNames;
    }

    public string Name { get; }

    public string Help { get; }

    public string Type { get; }

    public IReadOnlyList<string> LabelNames { get; }

    /// <summary>The series of these label values (in <see cref="LabelNames"/> order), made at zero on first use.</summary>
    public TSeries WithLabels(params string[] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Length != LabelNames.Count)
        {
            throw new ArgumentException($"{Name} has {LabelNames.Count} labels, but {values.Length} values were given.", nameof(values));
        }

        return _series.GetOrAdd(string.Join(KeySeparator, values), static (_, state) => (state.Values, state.Family.CreateSeries()), (Values: values, Family: this)).Series;
    }

    public void Write(StringBuilder text)
    {
        text.Append("# HELP ").Append(Name).Append(' ').Append(PrometheusText.EscapeHelp(Help)).Append('\n');
        text.Append("# TYPE ").Append(Name).Append(' ').Append(Type).Append('\n');
        foreach (var (values, series) in _series.Values.OrderBy(entry => string.Join(KeySeparator, entry.Values), StringComparer.Ordinal))
        {
            WriteSeries(text, values, series);
        }
    }

    protected abstract TSeries CreateSeries();

    protected abstract void WriteSeries(StringBuilder text, string[] labelValues, TSeries series);

    /// <summary>Writes <c>name{labels[,extra]} value</c>.</summary>
    protected void WriteSample(StringBuilder text, string name, string[] labelValues, string? extraLabel, string? extraValue, double value)
    {
        text.Append(name);
        if (labelValues.Length > 0 || extraLabel is not null)
        {
            text.Append('{');
            for (var i = 0; i < labelValues.Length; i++)
            {
                if (i > 0)
                {
                    text.Append(',');
                }

                text.Append(LabelNames[i]).Append("=\"").Append(PrometheusText.EscapeLabelValue(labelValues[i])).Append('"');
            }

            if (extraLabel is not null)
            {
                if (labelValues.Length > 0)
                {
                    text.Append(',');
                }

                text.Append(extraLabel).Append("=\"").Append(extraValue).Append('"');
            }

            text.Append('}');
        }

        text.Append(' ').Append(PrometheusText.FormatValue(value)).Append('\n');
    }

    [GeneratedRegex("^[a-zA-Z_:][a-zA-Z0-9_:]*$")]
    private static partial Regex MetricName();

    [GeneratedRegex("^[a-zA-Z_][a-zA-Z0-9_]*$")]
    private static partial Regex LabelName();
}
