using LlmAspire.Tests.Inference;
using System.Text;
using System.Text.Json;
using LlmAspire.Tests.AppHost;
using static LlmAspire.Tests.ModelServer.ModelServerHttp;

namespace LlmAspire.Tests.ModelServer.Apis;

/// <summary>Streamed <c>POST /v1/completions</c>: the SSE chunk shapes OpenAI clients parse.</summary>
[Collection(AspireAppCollection.Name)]
public sealed class CompletionsStreamingTests(AspireAppFixture fixture)
{
    [Stories260KFact]
    public async Task Stream_Greedy_SendsTextChunksThenDone()
    {
        using var client = fixture.CreateModelServerClient(0);

        var events = await StreamAsync(client, Json(new Dictionary<string, object?>
        {
            ["model"] = AspireAppFixture.ModelId,
            ["prompt"] = StoryPrompt,
            ["max_tokens"] = 60,
            ["temperature"] = 0,
            ["stream"] = true,
        }));

        Assert.Equal("[DONE]", events[^1]);
        var chunks = events.SkipLast(1).Select(data => JsonDocument.Parse(data)).ToList();
        try
        {
            Assert.True(chunks.Count > 1, "a 60-token answer comes in more than one chunk");
            var id = chunks[0].RootElement.GetProperty("id").GetString();
            var created = chunks[0].RootElement.GetProperty("created").GetInt64();
            Assert.StartsWith("cmpl-", id, StringComparison.Ordinal);

            var text = new StringBuilder();
            for (var i = 0; i < chunks.Count; i++)
            {
                var root = chunks[i].RootElement;
                // No usage field at all when the client did not ask for it.
                Assert.Equal(["id", "object", "created", "model", "choices"], root.EnumerateObject().Select(p => p.Name));
                Assert.Equal(id, root.GetProperty("id").GetString());
                Assert.Equal("text_completion", root.GetProperty("object").GetString());
                Assert.Equal(created, root.GetProperty("created").GetInt64());
                Assert.Equal(AspireAppFixture.ModelId, root.GetProperty("model").GetString());

                var choice = Assert.Single(root.GetProperty("choices").EnumerateArray());
                Assert.Equal(["text", "index", "logprobs", "finish_reason"], choice.EnumerateObject().Select(p => p.Name));
                Assert.Equal(0, choice.GetProperty("index").GetInt32());
                Assert.Equal(JsonValueKind.Null, choice.GetProperty("logprobs").ValueKind);
                var finishReason = StringOrNull(choice.GetProperty("finish_reason"));
                Assert.Equal(i == chunks.Count - 1 ? "length" : null, finishReason);
                text.Append(choice.GetProperty("text").GetString());
            }

            Assert.Equal(KnownContinuation, text.ToString());
        }
        finally
        {
            chunks.ForEach(chunk => chunk.Dispose());
        }
    }

    [Stories260KFact]
    public async Task Stream_IncludeUsage_SendsNullUsageOnChunksThenAUsageChunkWithNoChoices()
    {
        using var client = fixture.CreateModelServerClient(0);

        var events = await StreamAsync(client, Json(new Dictionary<string, object?>
        {
            ["prompt"] = StoryPrompt,
            ["max_tokens"] = 12,
            ["temperature"] = 0,
            ["stream"] = true,
            ["stream_options"] = new Dictionary<string, object?> { ["include_usage"] = true },
        }));

        Assert.Equal("[DONE]", events[^1]);
        using var usageChunk = JsonDocument.Parse(events[^2]);
        Assert.Empty(usageChunk.RootElement.GetProperty("choices").EnumerateArray());
        var usage = usageChunk.RootElement.GetProperty("usage");
        Assert.Equal(12, usage.GetProperty("completion_tokens").GetInt32());
        Assert.Equal(
            usage.GetProperty("prompt_tokens").GetInt32() + 12,
            usage.GetProperty("total_tokens").GetInt32());

        var textChunks = events.SkipLast(2).ToList();
        Assert.NotEmpty(textChunks);
        foreach (var data in textChunks)
        {
            using var chunk = JsonDocument.Parse(data);
            Assert.Equal(JsonValueKind.Null, chunk.RootElement.GetProperty("usage").ValueKind);
            Assert.Single(chunk.RootElement.GetProperty("choices").EnumerateArray());
        }

        using var last = JsonDocument.Parse(textChunks[^1]);
        Assert.Equal("length", last.RootElement.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
    }

    [Stories260KFact]
    public async Task Stream_StopString_NeverStreamsItAndFinishesOnStop()
    {
        using var client = fixture.CreateModelServerClient(0);

        var events = await StreamAsync(client, Json(new Dictionary<string, object?>
        {
            ["prompt"] = StoryPrompt,
            ["max_tokens"] = 60,
            ["temperature"] = 0,
            ["stop"] = "Lily",
            ["stream"] = true,
        }));

        Assert.Equal("[DONE]", events[^1]);
        var text = new StringBuilder();
        string? finishReason = null;
        foreach (var data in events.SkipLast(1))
        {
            using var chunk = JsonDocument.Parse(data);
            var choice = chunk.RootElement.GetProperty("choices")[0];
            Assert.Null(finishReason);
            text.Append(choice.GetProperty("text").GetString());
            finishReason = StringOrNull(choice.GetProperty("finish_reason"));
        }

        Assert.Equal(", there was a little girl named ", text.ToString());
        Assert.Equal("stop", finishReason);
    }

    [Stories260KFact]
    public async Task Stream_AndNonStreamed_GiveTheSameTextAndUsage()
    {
        using var client = fixture.CreateModelServerClient(1);
        var body = new Dictionary<string, object?>
        {
            ["prompt"] = "The cat",
            ["max_tokens"] = 30,
            ["temperature"] = 0.8,
            ["seed"] = 7,
        };

        using var whole = await CompleteAsync(client, Json(body));
        body["stream"] = true;
        body["stream_options"] = new Dictionary<string, object?> { ["include_usage"] = true };
        var events = await StreamAsync(client, Json(body));

        var text = new StringBuilder();
        foreach (var data in events.SkipLast(2))
        {
            using var chunk = JsonDocument.Parse(data);
            text.Append(chunk.RootElement.GetProperty("choices")[0].GetProperty("text").GetString());
        }

        using var usageChunk = JsonDocument.Parse(events[^2]);
        Assert.Equal(whole.RootElement.GetProperty("choices")[0].GetProperty("text").GetString(), text.ToString());
        var wholeUsage = whole.RootElement.GetProperty("usage");
        var streamedUsage = usageChunk.RootElement.GetProperty("usage");
        // The same counts; the second request finds more of its prompt in the prefix cache.
        foreach (var count in new[] { "prompt_tokens", "completion_tokens", "total_tokens" })
        {
            Assert.Equal(wholeUsage.GetProperty(count).GetInt32(), streamedUsage.GetProperty(count).GetInt32());
        }
    }
}
