using LlmAspire.Tests.Inference;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.RegularExpressions;
using LlmAspire.Tests.AppHost;
using Xunit.Abstractions;

namespace LlmAspire.Tests.Deployment;

/// <summary>
/// The guard against dashboards, alerts and autoscalers that silently query nothing: every metric and label the
/// alert rules, the Grafana dashboard and the HPA use must be in what the running services export on /metrics.
/// </summary>
[Collection(AspireAppCollection.Name)]
public sealed partial class MetricsContractTests(AspireAppFixture fixture)
{
    /// <summary>Series from outside our services: Prometheus's own <c>up</c>, and redis_exporter's <c>redis_up</c>.</summary>
    private static readonly HashSet<string> s_externalMetrics = new(StringComparer.Ordinal) { "up", "redis_up" };

    /// <summary>The gateway meter <c>LlmAspire.Gateway</c> as OpenTelemetry's Prometheus exporter names it.</summary>
    private const string GatewayPrefix = "llmaspire_gateway_";

    private static readonly TimeSpan s_timeout = TimeSpan.FromMinutes(1);

    [Stories260KFact]
    public async Task MonitoringQueries_EveryMetricAndLabel_IsExportedByTheRunningServices()
    {
        var modelServerSeries = new List<Sample>();
        for (var index = 0; index < AspireAppFixture.ModelServerCount; index++)
        {
            using var client = fixture.CreateModelServerClient(index);
            for (var request = 0; request < 2; request++)
            {
                using var response = await client.PostAsJsonAsync(
                    "/v1/completions",
                    new { model = AspireAppFixture.ModelId, prompt = "Once upon a time", max_tokens = 6 }).WaitAsync(s_timeout);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }

            modelServerSeries.AddRange(Parse(await client.GetStringAsync("/metrics").WaitAsync(s_timeout)));
        }

        using var gateway = fixture.CreateGatewayClient();
        using (await gateway.PostAsJsonAsync(
            "/v1/completions", new { model = AspireAppFixture.ModelId, prompt = "Once upon a time", max_tokens = 4 }).WaitAsync(s_timeout))
        {
        }

        using var gatewayMetrics = await gateway.GetAsync("/metrics").WaitAsync(s_timeout);
        var gatewayText = gatewayMetrics.IsSuccessStatusCode ? await gatewayMetrics.Content.ReadAsStringAsync().WaitAsync(s_timeout) : "";
        List<Sample>? gatewaySeries = gatewayText.Contains("# TYPE", StringComparison.Ordinal) ? Parse(gatewayText).ToList() : null;

        var failures = new List<string>();
        var unverified = new SortedSet<string>(StringComparer.Ordinal);
        var references = MonitoringQueries.All();
        Assert.Contains(references, reference => reference.Source == "HPA");
        foreach (var reference in references)
        {
            if (s_externalMetrics.Contains(reference.Metric))
            {
                continue;
            }

            List<Sample>? exported = reference.Metric.StartsWith("vllm:", StringComparison.Ordinal) ? modelServerSeries
                : reference.Metric.StartsWith(GatewayPrefix, StringComparison.Ordinal) ? gatewaySeries
                : throw new InvalidOperationException($"{reference.Source} uses {reference.Metric}, which no LlmAspire service is meant to export.");
            if (exported is null)
            {
                unverified.Add(reference.Metric);
                continue;
            }

            var samples = exported.Where(sample => sample.Name == reference.Metric).ToList();
            if (samples.Count == 0)
            {
                failures.Add($"{reference.Source}: {reference.Metric} is not exported.");
                continue;
            }

            foreach (var label in reference.Labels.Concat(reference.GroupingLabels).Where(label => !MonitoringQueries.TargetLabels.Contains(label)))
            {
                if (!samples.Any(sample => sample.Labels.Contains(label)))
                {
                    failures.Add($"{reference.Source}: {reference.Metric} has no label '{label}'.");
                }
            }
        }

        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures.Distinct()));

        // The gateway serves its meter on /metrics too: every series the rules and the dashboard read is checked.
        Assert.True(gatewaySeries is not null, $"The gateway serves no Prometheus /metrics ({(int)gatewayMetrics.StatusCode}).");
        Assert.Empty(unverified);
    }

    private sealed record Sample(string Name, IReadOnlySet<string> Labels);

    private static IEnumerable<Sample> Parse(string text)
    {
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            var brace = line.IndexOf('{', StringComparison.Ordinal);
            var space = line.IndexOf(' ', StringComparison.Ordinal);
            if (brace >= 0 && (space < 0 || brace < space))
            {
                var end = line.LastIndexOf('}');
                var labels = LabelPair().Matches(line[(brace + 1)..end]).Select(match => match.Groups[1].Value).ToHashSet(StringComparer.Ordinal);
                yield return new Sample(line[..brace], labels);
            }
            else if (space > 0)
            {
                yield return new Sample(line[..space], new HashSet<string>());
            }
        }
    }

    [GeneratedRegex(@"([a-zA-Z_][a-zA-Z0-9_]*)=""(?:[^""\\]|\\.)*""")]
    private static partial Regex LabelPair();
}
