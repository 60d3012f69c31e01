using LlmAspire.Tests.Inference;
using System.Text;
using System.Text.Json;
using LlmAspire.Tests.AppHost;
using static LlmAspire.Tests.ModelServer.ModelServerHttp;

namespace LlmAspire.Tests.ModelServer.Apis;

/// <summary>
/// Log-probabilities in both OpenAI shapes: the legacy completions object (<c>logprobs</c> 0-5) and chat's
/// <c>logprobs.content</c> (<c>logprobs</c> + <c>top_logprobs</c> 0-20), non-streamed and streamed.
/// </summary>
[Collection(AspireAppCollection.Name)]
public sealed class LogprobsTests(AspireAppFixture fixture)
{
    [Stories260KFact]
    public async Task Completions_Logprobs_GivesTheLegacyObjectMatchingTheText()
    {
        using var client = fixture.CreateModelServerClient(0);

        using var completion = await CompleteAsync(client, $$"""{"prompt":"{{StoryPrompt}}","max_tokens":12,"temperature":0,"logprobs":3}""");

        var choice = completion.RootElement.GetProperty("choices")[0];
        var text = choice.GetProperty("text").GetString()!;
        var logprobs = choice.GetProperty("logprobs");
        Assert.Equal(["tokens", "token_logprobs", "top_logprobs", "text_offset"], logprobs.EnumerateObject().Select(p => p.Name));
        var tokens = logprobs.GetProperty("tokens").EnumerateArray().Select(t => t.GetString()!).ToList();
        var tokenLogprobs = logprobs.GetProperty("token_logprobs").EnumerateArray().Select(t => t.GetDouble()).ToList();
        var top = logprobs.GetProperty("top_logprobs").EnumerateArray().ToList();
        var offsets = logprobs.GetProperty("text_offset").EnumerateArray().Select(t => t.GetInt32()).ToList();

        Assert.Equal(12, tokens.Count);
        Assert.Equal(text, string.Concat(tokens));
        Assert.Equal(12, tokenLogprobs.Count);
        Assert.All(tokenLogprobs, logprob => Assert.InRange(logprob, double.NegativeInfinity, 0));
        Assert.Equal(12, top.Count);
        var offset = 0;
        for (var i = 0; i < tokens.Count; i++)
        {
            Assert.Equal(offset, offsets[i]);
            offset += tokens[i].Length;

            // Greedy: the chosen token is the most likely of the (up to 3 + itself) alternatives.
            var alternatives = top[i].EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetDouble());
            Assert.InRange(alternatives.Count, 1, 4);
            Assert.Equal(tokenLogprobs[i], alternatives[tokens[i]], 5);
            Assert.Equal(alternatives.Values.Max(), tokenLogprobs[i], 5);
        }
    }

    [Stories260KFact]
    public async Task Completions_LogprobsZero_GivesOnlyTheChosenTokens()
    {
        using var client = fixture.CreateModelServerClient(0);

        using var completion = await CompleteAsync(client, $$"""{"prompt":"{{StoryPrompt}}","max_tokens":5,"logprobs":0}""");

        var top = completion.RootElement.GetProperty("choices")[0].GetProperty("logprobs").GetProperty("top_logprobs").EnumerateArray().ToList();
        Assert.Equal(5, top.Count);
        Assert.All(top, alternatives => Assert.Single(alternatives.EnumerateObject()));
    }

    [Stories260KFact]
    public async Task Completions_LogprobsStreamed_EachChunkCarriesItsTokens()
    {
        using var client = fixture.CreateModelServerClient(1);

        var events = await StreamAsync(client, $$"""{"prompt":"{{StoryPrompt}}","max_tokens":10,"temperature":0,"logprobs":1,"stream":true}""");

        var tokens = new List<string>();
        var offsets = new List<int>();
        var text = new StringBuilder();
        foreach (var data in events.SkipLast(1))
        {
            using var chunk = JsonDocument.Parse(data);
            var choice = chunk.RootElement.GetProperty("choices")[0];
            text.Append(choice.GetProperty("text").GetString());
            if (choice.GetProperty("logprobs").ValueKind == JsonValueKind.Object)
            {
                tokens.AddRange(choice.GetProperty("logprobs").GetProperty("tokens").EnumerateArray().Select(t => t.GetString()!));
                offsets.AddRange(choice.GetProperty("logprobs").GetProperty("text_offset").EnumerateArray().Select(t => t.GetInt32()));
            }
        }

        Assert.Equal(10, tokens.Count);
        Assert.Equal(text.ToString(), string.Concat(tokens));
        Assert.Equal(tokens.Select((_, i) => tokens.Take(i).Sum(t => t.Length)), offsets);
    }

    [Stories260KFact]
    public async Task ChatCompletions_LogprobsWithTopLogprobs_GivesContentEntries()
    {
        using var client = fixture.CreateModelServerClient(0);

        using var completion = await ChatAsync(client, """{"messages":[{"role":"user","content":"Hello"}],"max_tokens":8,"temperature":0,"logprobs":true,"top_logprobs":2,"logit_bias":{"2":-100}}""");

        var choice = completion.RootElement.GetProperty("choices")[0];
        var logprobs = choice.GetProperty("logprobs");
        Assert.Equal(["content", "refusal"], logprobs.EnumerateObject().Select(p => p.Name));
        var content = logprobs.GetProperty("content").EnumerateArray().ToList();
        Assert.Equal(8, content.Count);
        Assert.Equal(choice.GetProperty("message").GetProperty("content").GetString(), string.Concat(content.Select(entry => entry.GetProperty("token").GetString())));
        foreach (var entry in content)
        {
            Assert.Equal(["token", "logprob", "bytes", "top_logprobs"], entry.EnumerateObject().Select(p => p.Name));
            var token = entry.GetProperty("token").GetString()!;
            Assert.Equal(Encoding.UTF8.GetBytes(token), entry.GetProperty("bytes").EnumerateArray().Select(b => (byte)b.GetInt32()));
            Assert.InRange(entry.GetProperty("logprob").GetDouble(), double.NegativeInfinity, 0);
            var alternatives = entry.GetProperty("top_logprobs").EnumerateArray().ToList();
            Assert.Equal(2, alternatives.Count);
            Assert.All(alternatives, alternative => Assert.Equal(["token", "logprob", "bytes"], alternative.EnumerateObject().Select(p => p.Name)));
            // Greedy: the chosen token is the first alternative.
            Assert.Equal(token, alternatives[0].GetProperty("token").GetString());
            Assert.True(alternatives[0].GetProperty("logprob").GetDouble() >= alternatives[1].GetProperty("logprob").GetDouble());
        }
    }

    [Stories260KFact]
    public async Task ChatCompletions_LogprobsStreamed_ContentChunksCarryTheirTokens()
    {
        using var client = fixture.CreateModelServerClient(1);

        var events = await StreamAsync(client, ChatCompletionsUri, """{"messages":[{"role":"user","content":"Hello"}],"max_tokens":8,"temperature":0,"logprobs":true,"stream":true,"logit_bias":{"2":-100}}""");

        var tokens = new List<string>();
        var text = new StringBuilder();
        foreach (var data in events.SkipLast(1))
        {
            using var chunk = JsonDocument.Parse(data);
            var choice = chunk.RootElement.GetProperty("choices")[0];
            if (choice.GetProperty("delta").TryGetProperty("content", out var content))
            {
                text.Append(content.GetString());
            }

            if (choice.GetProperty("logprobs").ValueKind == JsonValueKind.Object)
            {
                var entries = choice.GetProperty("logprobs").GetProperty("content").EnumerateArray().ToList();
                Assert.All(entries, entry => Assert.Empty(entry.GetProperty("top_logprobs").EnumerateArray()));
                tokens.AddRange(entries.Select(entry => entry.GetProperty("token").GetString()!));
            }
        }

        Assert.Equal(8, tokens.Count);
        Assert.Equal(text.ToString(), string.Concat(tokens));
    }

    [Stories260KFact]
    public async Task ChatCompletions_NoLogprobs_IsNull()
    {
        using var client = fixture.CreateModelServerClient(0);

        using var completion = await ChatAsync(client, """{"messages":[{"role":"user","content":"Hello"}],"max_tokens":2,"logprobs":false}""");

        Assert.Equal(JsonValueKind.Null, completion.RootElement.GetProperty("choices")[0].GetProperty("logprobs").ValueKind);
    }
}
