using System.Globalization;
using System.Text.RegularExpressions;

namespace LlmAspire.Tests.ModelServer;

/// <summary>A scrape of a model server's <c>/metrics</c> (Prometheus text format), parsed strictly enough to catch a malformed line.</summary>
internal sealed partial class ModelServerMetrics
{
    public static readonly Uri MetricsUri = new("/metrics", UriKind.Relative);

    private readonly List<(string Name, IReadOnlyDictionary<string, string> Labels, double Value)> _samples = [];

    private ModelServerMetrics(string text)
    {
        Text = text;
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.StartsWith('#'))
            {
                Assert.Matches(CommentLine(), line);
                continue;
            }

            var match = SampleLine().Match(line);
            Assert.True(match.Success, $"not a Prometheus sample line: {line}");
            var labels = match.Groups["labels"].Captures
                .Select(capture => LabelPair().Match(capture.Value))
                .ToDictionary(pair => pair.Groups["name"].Value, pair => pair.Groups["value"].Value);
            var value = match.Groups["value"].Value switch
            {
                "+Inf" => double.PositiveInfinity,
                "-Inf" => double.NegativeInfinity,
                var number => double.Parse(number, NumberStyles.Float, CultureInfo.InvariantCulture),
            };
            _samples.Add((match.Groups["name"].Value, labels, value));
        }
    }

    public string Text { get; }

    public static async Task<ModelServerMetrics> ScrapeAsync(HttpClient client, CancellationToken cancellationToken = default)
    {
        using var response = await client.GetAsync(MetricsUri, cancellationToken).WaitAsync(ModelServerHttp.RequestTimeout, cancellationToken);
        response.EnsureSuccessStatusCode();
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        return new ModelServerMetrics(await response.Content.ReadAsStringAsync(cancellationToken).WaitAsync(ModelServerHttp.RequestTimeout, cancellationToken));
    }

    /// <summary>The value of <paramref name="name"/> for the served model (and <paramref name="labels"/>); fails when there is no such sample.</summary>
    public double Value(string name, params (string Name, string Value)[] labels) => ModelValue(AppHost.AspireAppFixture.ModelId, name, labels);

    /// <summary>The value of <paramref name="name"/> for model <paramref name="modelId"/> (and <paramref name="labels"/>); fails when there is no such sample.</summary>
    public double ModelValue(string modelId, string name, params (string Name, string Value)[] labels)
    {
        var matches = _samples
            .Where(sample => sample.Name == name
                && sample.Labels.TryGetValue("model_name", out var model) && model == modelId
                && labels.All(label => sample.Labels.TryGetValue(label.Name, out var value) && value == label.Value))
            .ToList();
        Assert.True(matches.Count == 1, $"expected one sample of {name} {string.Join(',', labels)}, found {matches.Count}:\n{Text}");
        return matches[0].Value;
    }

    /// <summary>Whether any sample (or family line) has this name.</summary>
    public bool Has(string name) => _samples.Any(sample => sample.Name == name);

    [GeneratedRegex("^# (HELP [a-zA-Z_:][a-zA-Z0-9_:]* .*|TYPE [a-zA-Z_:][a-zA-Z0-9_:]* (counter|gauge|histogram|summary|untyped))$")]
    private static partial Regex CommentLine();

    [GeneratedRegex("""^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{((?<labels>[a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*"),?)*\})? (?<value>[-+]?(Inf|NaN|[0-9.eE+-]+))$""")]
    private static partial Regex SampleLine();

    [GeneratedRegex("""^(?<name>[a-zA-Z_][a-zA-Z0-9_]*)="(?<value>.*)"$""")]
    private static partial Regex LabelPair();
}
