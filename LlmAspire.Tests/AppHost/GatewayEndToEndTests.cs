using LlmAspire.Tests.Inference;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace LlmAspire.Tests.AppHost;

/// <summary>Greedy completions of stories260K through the running topology: gateway → model servers.</summary>
[Collection(AspireAppCollection.Name)]
public sealed class GatewayEndToEndTests(AspireAppFixture fixture)
{
    /// <summary>The known greedy continuation of "Once upon a time" (../shared/models/stories260K/README.md).</summary>
    public const string KnownContinuation =
        ", there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red ball. She wanted to play with it, but it was too high.\nLily";

    private const string Prompt = "Once upon a time";

    private static readonly TimeSpan s_timeout = TimeSpan.FromMinutes(1);

    [Stories260KFact]
    public async Task Completions_GreedyThroughGateway_ContinuesWithTheKnownStory()
    {
        using var client = fixture.CreateGatewayClient();

        using var completion = await PostCompletionAsync(client, maxTokens: 100, stream: false);

        var root = completion.RootElement;
        Assert.Equal("text_completion", root.GetProperty("object").GetString());
        Assert.Equal(AspireAppFixture.ModelId, root.GetProperty("model").GetString());
        var text = root.GetProperty("choices")[0].GetProperty("text").GetString();
        Assert.NotNull(text);
        Assert.StartsWith(KnownContinuation, text, StringComparison.Ordinal);
    }

    [Stories260KFact]
    public async Task Completions_ShortGreedyThroughGateway_ReturnsAPrefixAndFinishesOnLength()
    {
        using var client = fixture.CreateGatewayClient();

        using var completion = await PostCompletionAsync(client, maxTokens: 8, stream: false);

        var root = completion.RootElement;
        var choice = root.GetProperty("choices")[0];
        var text = choice.GetProperty("text").GetString();
        Assert.False(string.IsNullOrEmpty(text));
        Assert.StartsWith(text, KnownContinuation, StringComparison.Ordinal);
        Assert.Equal("length", choice.GetProperty("finish_reason").GetString());
        var usage = root.GetProperty("usage");
        Assert.Equal(8, usage.GetProperty("completion_tokens").GetInt32());
        Assert.Equal(
            usage.GetProperty("prompt_tokens").GetInt32() + 8,
            usage.GetProperty("total_tokens").GetInt32());
    }

    [Stories260KFact]
    public async Task Completions_StreamedThroughGateway_StreamsTheKnownStoryThenDone()
    {
        using var client = fixture.CreateGatewayClient();
        using var request = CreateCompletionRequest(maxTokens: 100, stream: true);

        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead).WaitAsync(s_timeout);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var events = await ReadServerSentEventsAsync(response).WaitAsync(s_timeout);
        Assert.Equal("[DONE]", events[^1]);

        var text = new StringBuilder();
        var finishReasons = new List<string?>();
        foreach (var data in events.SkipLast(1))
        {
            using var chunk = JsonDocument.Parse(data);
            foreach (var choice in chunk.RootElement.GetProperty("choices").EnumerateArray())
            {
                text.Append(choice.GetProperty("text").GetString());
                finishReasons.Add(choice.GetProperty("finish_reason").ValueKind == JsonValueKind.Null
                    ? null
                    : choice.GetProperty("finish_reason").GetString());
            }
        }

        Assert.StartsWith(KnownContinuation, text.ToString(), StringComparison.Ordinal);
        Assert.All(finishReasons.SkipLast(1), Assert.Null);
        Assert.NotNull(finishReasons[^1]);
    }

    [Stories260KFact]
    public async Task Models_ThroughGateway_ListsTheServedModel()
    {
        using var client = fixture.CreateGatewayClient();

        using var response = await client.GetAsync(new Uri("/v1/models", UriKind.Relative)).WaitAsync(s_timeout);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var models = JsonDocument.Parse(await response.Content.ReadAsStringAsync().WaitAsync(s_timeout));
        Assert.Equal("list", models.RootElement.GetProperty("object").GetString());
        Assert.Contains(
            models.RootElement.GetProperty("data").EnumerateArray(),
            model => model.GetProperty("id").GetString() == AspireAppFixture.ModelId);
    }

    [Stories260KFact]
    public async Task Health_Gateway_IsHealthy()
    {
        using var client = fixture.CreateGatewayClient();

        using var response = await client.GetAsync(new Uri("/health", UriKind.Relative)).WaitAsync(s_timeout);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Healthy", await response.Content.ReadAsStringAsync().WaitAsync(s_timeout));
    }

    [Stories260KTheory]
    [InlineData(0)]
    [InlineData(1)]
    public async Task Health_EveryModelServer_IsHealthyAndServesTheKnownStory(int index)
    {
        using var client = fixture.CreateModelServerClient(index);

        using var health = await client.GetAsync(new Uri("/health", UriKind.Relative)).WaitAsync(s_timeout);
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal("Healthy", await health.Content.ReadAsStringAsync().WaitAsync(s_timeout));

        using var alive = await client.GetAsync(new Uri("/alive", UriKind.Relative)).WaitAsync(s_timeout);
        Assert.Equal(HttpStatusCode.OK, alive.StatusCode);

        using var completion = await PostCompletionAsync(client, maxTokens: 8, stream: false);
        var text = completion.RootElement.GetProperty("choices")[0].GetProperty("text").GetString();
        Assert.False(string.IsNullOrEmpty(text));
        Assert.StartsWith(text, KnownContinuation, StringComparison.Ordinal);
    }

    private static HttpRequestMessage CreateCompletionRequest(int maxTokens, bool stream) =>
        new(HttpMethod.Post, new Uri("/v1/completions", UriKind.Relative))
        {
            Content = JsonContent.Create(new Dictionary<string, object>
            {
                ["model"] = AspireAppFixture.ModelId,
                ["prompt"] = Prompt,
                ["max_tokens"] = maxTokens,
                ["temperature"] = 0,
                ["stream"] = stream,
            }),
        };

    private static async Task<JsonDocument> PostCompletionAsync(HttpClient client, int maxTokens, bool stream)
    {
        using var request = CreateCompletionRequest(maxTokens, stream);
        using var response = await client.SendAsync(request).WaitAsync(s_timeout);
        var body = await response.Content.ReadAsStringAsync().WaitAsync(s_timeout);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {body}");
        return JsonDocument.Parse(body);
    }

    /// <summary>The <c>data:</c> payloads of an SSE response, in order.</summary>
    private static async Task<List<string>> ReadServerSentEventsAsync(HttpResponseMessage response)
    {
        var events = new List<string>();
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        while (await reader.ReadLineAsync() is { } line)
        {
            if (line.StartsWith("data:", StringComparison.Ordinal))
            {
                events.Add(line["data:".Length..].TrimStart());
            }
        }

        return events;
    }
}
