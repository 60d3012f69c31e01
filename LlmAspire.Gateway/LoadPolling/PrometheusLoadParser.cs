using System.Globalization;

namespace LlmAspire.Gateway.LoadPolling;

/// <summary>
/// Reads a model server's load from its Prometheus text exposition (vLLM's metric names). Defensive: unknown lines,
/// malformed lines, NaN and infinities are skipped; a missing metric stays null.
/// </summary>
public static class PrometheusLoadParser
{
    /// <summary>Requests the engine runs now.</summary>
    public const string RunningMetric = "vllm:num_requests_running";

    /// <summary>Requests waiting for the engine.</summary>
    public const string WaitingMetric = "vllm:num_requests_waiting";

    /// <summary>The KV cache's fill, 0 to 1.</summary>
    public const string KvCacheUsageMetric = "vllm:kv_cache_usage_perc";

    /// <summary>The KV cache's fill under vLLM's older name.</summary>
    public const string LegacyKvCacheUsageMetric = "vllm:gpu_cache_usage_perc";

    /// <summary>The label that names the model a series is about.</summary>
    public const string ModelLabel = "model_name";

    /// <summary>
    /// Parses <paramref name="text"/>. Series labelled <c>model_name="<paramref name="model"/>"</c> are used when there
    /// are any; otherwise every series of the metric (a server serves one model). Request counts are summed over the
    /// series, KV usage takes the largest.
    /// </summary>
    public static ModelServerLoad Parse(string text, string? model)
    {
        ArgumentNullException.ThrowIfNull(text);
        var running = new Aggregate(sum: true);
        var waiting = new Aggregate(sum: true);
        var kvCache = new Aggregate(sum: false);
        var legacyKvCache = new Aggregate(sum: false);

        foreach (var rawLine in text.AsSpan().EnumerateLines())
        {
            var line = rawLine.Trim();
            if (line.IsEmpty || line[0] == '#' || !line.StartsWith("vllm:", StringComparison.Ordinal))
            {
                continue;
            }

            if (!TryParseSample(line, out var name, out var labels, out var value))
            {
                continue;
            }

            var target = name switch
            {
                RunningMetric => running,
                WaitingMetric => waiting,
                KvCacheUsageMetric => kvCache,
                LegacyKvCacheUsageMetric => legacyKvCache,
                _ => null,
            };
            target?.Add(value, model is not null && HasLabel(labels, ModelLabel, model));
        }

        return new ModelServerLoad(running.Result, waiting.Result, kvCache.Result ?? legacyKvCache.Result);
    }

    /// <summary>Splits <c>name{labels} value [timestamp]</c>; false for a malformed line or a value that is not finite.</summary>
    private static bool TryParseSample(ReadOnlySpan<char> line, out string name, out string labels, out double value)
    {
        name = string.Empty;
        labels = string.Empty;
        value = 0;

        var nameEnd = line.IndexOfAny('{', ' ', '\t');
        if (nameEnd <= 0)
        {
            return false;
        }

        name = line[..nameEnd].ToString();
        var rest = line[nameEnd..];
        if (rest[0] == '{')
        {
            var close = FindLabelsEnd(rest);
            if (close < 0)
            {
                return false;
            }

            labels = rest[1..close].ToString();
            rest = rest[(close + 1)..];
        }

        rest = rest.TrimStart();
        var valueEnd = rest.IndexOfAny(' ', '\t');
        var valueText = valueEnd < 0 ? rest : rest[..valueEnd];
        return double.TryParse(valueText, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && double.IsFinite(value);
    }

    /// <summary>The index of the <c>}</c> that closes the label set opened at 0, skipping quoted values; -1 if none.</summary>
    private static int FindLabelsEnd(ReadOnlySpan<char> text)
    {
        var quoted = false;
        for (var i = 1; i < text.Length; i++)
        {
            var c = text[i];
            if (quoted)
            {
                if (c == '\\')
                {
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
            }
            else if (c == '"')
            {
                quoted = true;
            }
            else if (c == '}')
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>Whether the label set <paramref name="labels"/> (without braces) holds <paramref name="label"/>="<paramref name="expected"/>".</summary>
    private static bool HasLabel(string labels, string label, string expected)
    {
        var i = 0;
        while (i < labels.Length)
        {
            while (i < labels.Length && (labels[i] == ',' || char.IsWhiteSpace(labels[i])))
            {
                i++;
            }

            var equals = labels.IndexOf('=', i);
            if (equals < 0)
            {
                return false;
            }

            var key = labels.AsSpan(i, equals - i).Trim();
            i = equals + 1;
            while (i < labels.Length && char.IsWhiteSpace(labels[i]))
            {
                i++;
            }

            if (i >= labels.Length || labels[i] != '"')
            {
                return false;
            }

            i++;
            var value = new System.Text.StringBuilder();
            while (i < labels.Length && labels[i] != '"')
            {
                if (labels[i] == '\\' && i + 1 < labels.Length)
                {
                    i++;
                    value.Append(labels[i] == 'n' ? '\n' : labels[i]);
                }
                else
                {
                    value.Append(labels[i]);
                }

                i++;
            }

            i++;
            if (key.SequenceEqual(label) && value.ToString() == expected)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>One metric's value over its series: all of them, and those of the requested model.</summary>
    private sealed class Aggregate(bool sum)
    {
        private double? _all;
        private double? _matching;

        public double? Result => _matching ?? _all;

        public void Add(double value, bool matchesModel)
        {
            _all = Combine(_all, value);
            if (matchesModel)
            {
                _matching = Combine(_matching, value);
            }
        }

        private double Combine(double? current, double value) =>
            current is not { } c ? value : sum ? c + value : Math.Max(c, value);
    }
}
