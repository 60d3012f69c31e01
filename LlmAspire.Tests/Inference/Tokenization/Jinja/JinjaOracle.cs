using System.Text.Json;
using System.Text.Json.Nodes;
using LlmAspire.Tests.Node;

namespace LlmAspire.Tests.Inference.Tokenization.Jinja;

/// <summary>
/// Renders templates with <c>@huggingface/jinja</c> 0.5.13 (LlmAspire.Tests/Node/render-template.mjs), all of a batch
/// in one node process, in UTC so that <c>strftime_now</c> agrees with <see cref="UtcClock"/>.
/// </summary>
internal static class JinjaOracle
{
    /// <summary>The oracle's output for each (template, context) in order: the text, or null with the error.</summary>
    public static async Task<IReadOnlyList<(string? Text, string? Error)>> RenderAsync(IReadOnlyList<(string Template, JsonObject Context)> cases)
    {
        var input = new JsonArray();
        foreach ((string template, JsonObject context) in cases)
        {
            input.Add(new JsonObject { ["template"] = template, ["context"] = context.DeepClone() });
        }

        string output = await NodePeers.RunAsync("render-template.mjs", input.ToJsonString(), new Dictionary<string, string> { ["TZ"] = "UTC" }, TimeSpan.FromMinutes(2));
        var results = new List<(string?, string?)>();
        foreach (JsonElement result in JsonDocument.Parse(output).RootElement.EnumerateArray())
        {
            results.Add(result.GetProperty("ok").GetBoolean()
                ? (result.GetProperty("text").GetString(), null)
                : (null, result.GetProperty("error").GetString()));
        }

        Assert.Equal(cases.Count, results.Count);
        return results;
    }

    /// <summary>The system clock with UTC as the local zone (the oracle runs with TZ=UTC).</summary>
    public sealed class UtcClock : TimeProvider
    {
        public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;
    }
}
