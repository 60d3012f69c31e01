using System.Net;
using System.Text.Json;
using LlmAspire.Tests.Inference;

namespace LlmAspire.Tests.ModelServer;

/// <summary>
/// <c>ModelServer:ModelPath</c> as an <c>hf:</c> reference, through real model server processes: downloaded and
/// converted on first use; the demo model, with a warning, when the hub cannot be reached; Unhealthy with the
/// reason when the hub does not have the repository. The fake hub serves ../shared: skipped, saying why, without it.
/// </summary>
public sealed class ModelPathTests(ModelPathFixture fixture) : IClassFixture<ModelPathFixture>
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromMinutes(1);

    [Stories260KFact]
    public async Task HubReference_HubReachable_ServesTheDownloadedModelWithTheKnownAnswer()
    {
        using var client = fixture.CreateClient(ModelPathFixture.Reachable);

        Assert.Equal(["stories260K"], await ModelIdsAsync(client));
        using var completion = await ModelServerHttp.CompleteAsync(client, ModelServerHttp.Json(new Dictionary<string, object?>
        {
            ["model"] = "stories260K",
            ["prompt"] = ModelServerHttp.StoryPrompt,
            ["max_tokens"] = 60,
            ["temperature"] = 0,
        }));
        Assert.Equal(ModelServerHttp.KnownContinuation, completion.RootElement.GetProperty("choices")[0].GetProperty("text").GetString());

        var logs = string.Join('\n', await fixture.LogsAsync(ModelPathFixture.Reachable).WaitAsync(s_timeout));
        Assert.Contains("Downloaded stories260K/stories260K.bin (1056540 bytes, SHA-256 verified)", logs, StringComparison.Ordinal);
        Assert.Contains("Converting the Llama2c snapshot", logs, StringComparison.Ordinal);
        var conversions = Path.Combine(fixture.CacheDirectory(ModelPathFixture.Reachable), "karpathy--tinyllamas", "main", "models", "stories260K");
        Assert.True(Directory.Exists(Path.Combine(Assert.Single(Directory.GetDirectories(conversions)), "stories260K")));
    }

    [Stories260KFact]
    public async Task HubReference_HubUnreachable_ServesTheDemoModelWithAWarningSayingWhyAndHowToFix()
    {
        using var client = fixture.CreateClient(ModelPathFixture.Unreachable);

        Assert.Equal(["llmaspire-demo"], await ModelIdsAsync(client));
        var warning = await fixture.WaitForLogAsync(ModelPathFixture.Unreachable, "INSTEAD OF " + ModelPathFixture.Reference, s_timeout);
        Assert.Contains("cannot be reached", warning, StringComparison.Ordinal);
        Assert.Contains("ModelServer:ModelPath", warning, StringComparison.Ordinal);
        Assert.Contains("RANDOM", warning, StringComparison.Ordinal);
    }

    [Stories260KFact]
    public async Task HubReference_UnknownRepository_StaysUnhealthyNamingTheRepository()
    {
        using var client = fixture.CreateClient(ModelPathFixture.Misspelt);

        await fixture.WaitForLogAsync(ModelPathFixture.Misspelt, "Loading the model from '" + ModelPathFixture.MisspeltReference + "' failed", ModelPathFixture.StartTimeout);
        using var health = await client.GetAsync(new Uri("/health", UriKind.Relative)).WaitAsync(s_timeout);
        var logs = string.Join('\n', await fixture.LogsAsync(ModelPathFixture.Misspelt).WaitAsync(s_timeout));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
        Assert.Equal("Unhealthy", await health.Content.ReadAsStringAsync().WaitAsync(s_timeout));
        Assert.Contains(ModelPathFixture.MisspeltReference + " was not found on", logs, StringComparison.Ordinal);
        Assert.DoesNotContain("INSTEAD OF", logs, StringComparison.Ordinal);
        Assert.DoesNotContain(fixture.Hub.Downloads, request => request.Path.Contains("tinyllamaz", StringComparison.Ordinal));
    }

    private static async Task<string[]> ModelIdsAsync(HttpClient client)
    {
        using var response = await client.GetAsync(new Uri("/v1/models", UriKind.Relative)).WaitAsync(s_timeout);
        response.EnsureSuccessStatusCode();
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync().WaitAsync(s_timeout));
        return [.. document.RootElement.GetProperty("data").EnumerateArray().Select(model => model.GetProperty("id").GetString() ?? "")];
    }
}
