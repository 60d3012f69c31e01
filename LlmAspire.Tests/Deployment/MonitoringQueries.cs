using System.Text.Json;
using System.Text.RegularExpressions;
using k8s.Models;
using LlmAspire.Cli.Deployment;
using LlmAspire.Tests.Inference;

namespace LlmAspire.Tests.Deployment;

/// <summary>
/// The metric names and label names that the alert rules, the Grafana dashboard and the HPA query, read from
/// deploy/prometheus/rules, deploy/grafana and the generator, with where each came from.
/// </summary>
internal static partial class MonitoringQueries
{
    /// <summary>Labels Prometheus adds at scrape time (target labels), not exported by the services.</summary>
    public static readonly IReadOnlySet<string> TargetLabels = new HashSet<string>(StringComparer.Ordinal)
    {
        "job", "instance", "namespace", "pod", "service", "le",
    };

    /// <summary>One selector: a metric name and the labels it matches on, in an expression from <paramref name="Source"/>.</summary>
    public sealed record MetricReference(string Metric, IReadOnlySet<string> Labels, IReadOnlySet<string> GroupingLabels, string Source);

    public static IReadOnlyList<MetricReference> All()
    {
        var references = new List<MetricReference>();
        var rules = File.ReadAllText(Path.Combine(TestPaths.RepositoryRoot, "deploy", "prometheus", "rules", "llmaspire-alerts.yml"));
        foreach (Match match in RuleExpression().Matches(rules))
        {
            references.AddRange(Parse(match.Groups[1].Value, "alert rules"));
        }

        using var dashboard = JsonDocument.Parse(File.ReadAllText(Path.Combine(TestPaths.RepositoryRoot, "deploy", "grafana", "llmaspire-dashboard.json")));
        foreach (var panel in dashboard.RootElement.GetProperty("panels").EnumerateArray())
        {
            foreach (var target in panel.GetProperty("targets").EnumerateArray())
            {
                references.AddRange(Parse(target.GetProperty("expr").GetString()!, "dashboard: " + panel.GetProperty("title").GetString()));
            }
        }

        foreach (var variable in dashboard.RootElement.GetProperty("templating").GetProperty("list").EnumerateArray())
        {
            if (variable.TryGetProperty("query", out var query) && LabelValues().Match(query.GetString() ?? "") is { Success: true } labelValues)
            {
                references.Add(new MetricReference(labelValues.Groups[1].Value, new HashSet<string> { labelValues.Groups[2].Value }, new HashSet<string>(), "dashboard variable"));
            }
        }

        var hpaMetrics = new KubernetesGenerator(
                AspireManifest.Parse("""{"resources":{"modelserver-0":{"type":"project.v0","path":"LlmAspire.ModelServer.csproj","bindings":{"http":{"scheme":"http","protocol":"tcp","transport":"http"}}}}}"""),
                new KubernetesOptions())
            .Generate().SelectMany(file => file.Objects).OfType<V2HorizontalPodAutoscaler>()
            .SelectMany(hpa => hpa.Spec.Metrics).Select(metric => metric.Pods.Metric.Name);
        references.AddRange(hpaMetrics.Select(name => new MetricReference(name, new HashSet<string>(), new HashSet<string>(), "HPA")));
        return references;
    }

    /// <summary>The selectors of one PromQL expression, each with the expression's <c>by (…)</c> labels.</summary>
    public static IEnumerable<MetricReference> Parse(string expression, string source)
    {
        var grouping = new HashSet<string>(StringComparer.Ordinal);
        foreach (Match by in Grouping().Matches(expression))
        {
            grouping.UnionWith(by.Groups[1].Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));
        }

        var stripped = Grouping().Replace(expression, " ");
        stripped = RangeOrOffset().Replace(stripped, " ");
        foreach (Match selector in Selector().Matches(stripped))
        {
            var name = selector.Groups[1].Value;
            if (Keywords.Contains(name))
            {
                continue;
            }

            var labels = new HashSet<string>(StringComparer.Ordinal);
            if (selector.Groups[2].Success)
            {
                foreach (Match matcher in Matcher().Matches(selector.Groups[2].Value))
                {
                    labels.Add(matcher.Groups[1].Value);
                }
            }

            yield return new MetricReference(name, labels, grouping, source);
        }
    }

    private static readonly HashSet<string> Keywords = new(StringComparer.Ordinal)
    {
        "sum", "max", "min", "avg", "count", "rate", "irate", "increase", "histogram_quantile", "absent", "by", "without",
        "and", "or", "unless", "offset", "bool", "on", "ignoring", "group_left", "group_right", "label_values", "le",
    };

    [GeneratedRegex(@"expr:\s*\|\s*\n((?:\s{10,}.*\n?)+)")]
    private static partial Regex RuleExpression();

    // A metric name with its optional {matchers}; not a function call (followed by '(').
    [GeneratedRegex(@"(?<![\w:.$])([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\{[^}]*\})?(?!\s*\(|[\w:])")]
    private static partial Regex Selector();

    [GeneratedRegex(@"\[[^\]]*\]|\boffset\s+\w+")]
    private static partial Regex RangeOrOffset();

    [GeneratedRegex(@"([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)\s*""")]
    private static partial Regex Matcher();

    [GeneratedRegex(@"\bby\s*\(([^)]*)\)")]
    private static partial Regex Grouping();

    [GeneratedRegex(@"label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*,\s*([a-zA-Z_]\w*)\s*\)")]
    private static partial Regex LabelValues();
}
