using System.Text.RegularExpressions;
using LlmAspire.Tests.Inference;

namespace LlmAspire.Tests.Deployment;

/// <summary>The monitoring files' own consistency: every alert has a promtool test, and the guard reads real queries.</summary>
public sealed class MonitoringQueriesTests
{
    [Fact]
    public void AlertRules_EveryAlert_HasAPromtoolUnitTest()
    {
        var prometheus = Path.Combine(TestPaths.RepositoryRoot, "deploy", "prometheus");
        var alerts = Regex.Matches(File.ReadAllText(Path.Combine(prometheus, "rules", "llmaspire-alerts.yml")), @"- alert: (\w+)")
            .Select(match => match.Groups[1].Value).ToList();
        var tested = Directory.EnumerateFiles(Path.Combine(prometheus, "tests"), "*.yml")
            .SelectMany(file => Regex.Matches(File.ReadAllText(file), @"alertname: (\w+)").Select(match => match.Groups[1].Value))
            .ToHashSet(StringComparer.Ordinal);

        Assert.Equal(8, alerts.Count);
        Assert.All(alerts, alert => Assert.Contains(alert, tested));
    }

    [Fact]
    public void All_ReadsTheRulesDashboardAndHpa_WithTheirLabels()
    {
        var references = MonitoringQueries.All();

        Assert.Contains(references, r => r.Metric == "vllm:time_to_first_token_seconds_bucket" && r.Source == "alert rules" && r.GroupingLabels.Contains("model_name"));
        Assert.Contains(references, r => r.Metric == "vllm:request_success_total" && r.GroupingLabels.Contains("finished_reason"));
        Assert.Contains(references, r => r.Metric == "vllm:num_requests_running" && r.Source == "dashboard variable" && r.Labels.Contains("model_name"));
        Assert.Contains(references, r => r.Metric == "llmaspire_gateway_requests_total" && r.Labels.Contains("status"));
        Assert.Contains(references, r => r.Metric == "llmaspire_gateway_requests_total" && r.GroupingLabels.Contains("destination"));
        Assert.Contains(references, r => r.Metric == "vllm:num_requests_waiting" && r.Source == "HPA");
        Assert.DoesNotContain(references, r => r.Metric is "le" or "model_name" or "sum" or "rate" or "m" or "d");
    }

    [Fact]
    public void Parse_HistogramQuantile_FindsTheBucketSeriesAndItsLabels()
    {
        var references = MonitoringQueries.Parse(
            "histogram_quantile(0.95, sum by (le, model_name) (rate(vllm:e2e_request_latency_seconds_bucket{job=\"modelserver\", model_name=~\"$model\"}[$__rate_interval]))) > 2",
            "test").ToList();

        var reference = Assert.Single(references);
        Assert.Equal("vllm:e2e_request_latency_seconds_bucket", reference.Metric);
        Assert.Equal(["job", "model_name"], reference.Labels.Order());
        Assert.Equal(["le", "model_name"], reference.GroupingLabels.Order());
    }
}
