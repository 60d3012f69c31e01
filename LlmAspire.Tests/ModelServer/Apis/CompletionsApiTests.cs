using LlmAspire.Tests.Inference;
using System.Text.Json;
using LlmAspire.Tests.AppHost;
using static LlmAspire.Tests.ModelServer.ModelServerHttp;

namespace LlmAspire.Tests.ModelServer.Apis;

/// <summary>Non-streamed <c>POST /v1/completions</c> against a model server serving stories260K.</summary>
[Collection(AspireAppCollection.Name)]
public sealed class CompletionsApiTests(AspireAppFixture fixture)
{
    [Stories260KFact]
    public async Task Completions_Greedy_AnswersInTheOpenAIShapeWithTheKnownStory()
    {
        using var client = fixture.CreateModelServerClient(0);

        using var completion = await CompleteAsync(client, Json(new Dictionary<string, object?>
        {
            ["model"] = AspireAppFixture.ModelId,
            ["prompt"] = StoryPrompt,
            ["max_tokens"] = 60,
            ["temperature"] = 0,
        }));

        var root = completion.RootElement;
        Assert.Equal(["id", "object", "created", "model", "choices", "usage"], root.EnumerateObject().Select(p => p.Name));
        Assert.StartsWith("cmpl-", root.GetProperty("id").GetString(), StringComparison.Ordinal);
        Assert.Equal("text_completion", root.GetProperty("object").GetString());
        Assert.InRange(root.GetProperty("created").GetInt64(), DateTimeOffset.UtcNow.AddHours(-1).ToUnixTimeSeconds(), DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds());
        Assert.Equal(AspireAppFixture.ModelId, root.GetProperty("model").GetString());

        var choice = Assert.Single(root.GetProperty("choices").EnumerateArray());
        Assert.Equal(["text", "index", "logprobs", "finish_reason"], choice.EnumerateObject().Select(p => p.Name));
        Assert.Equal(KnownContinuation, choice.GetProperty("text").GetString());
        Assert.Equal(0, choice.GetProperty("index").GetInt32());
        Assert.Equal(JsonValueKind.Null, choice.GetProperty("logprobs").ValueKind);
        Assert.Equal("length", choice.GetProperty("finish_reason").GetString());
    }

    [Stories260KFact]
    public async Task Completions_TokenIdPrompt_AnswersAsTheTextPromptDoes()
    {
        using var client = fixture.CreateModelServerClient(0);
        using var model = LlmAspire.Inference.LanguageModel.Load(fixture.ModelPath, LlmAspire.Inference.Engine.ExecutionProviderPreference.Cpu);
        var ids = model.Tokenizer.Encode(StoryPrompt, addBos: true);

        using var byText = await CompleteAsync(client, Json(new Dictionary<string, object?> { ["prompt"] = StoryPrompt, ["max_tokens"] = 24, ["temperature"] = 0 }));
        using var byIds = await CompleteAsync(client, Json(new Dictionary<string, object?> { ["prompt"] = ids, ["max_tokens"] = 24, ["temperature"] = 0 }));
        using var byNestedIds = await CompleteAsync(client, Json(new Dictionary<string, object?> { ["prompt"] = new[] { ids }, ["max_tokens"] = 24, ["temperature"] = 0 }));

        var expected = byText.RootElement.GetProperty("choices")[0].GetProperty("text").GetString();
        Assert.Equal(expected, byIds.RootElement.GetProperty("choices")[0].GetProperty("text").GetString());
        Assert.Equal(expected, byNestedIds.RootElement.GetProperty("choices")[0].GetProperty("text").GetString());
        Assert.Equal(ids.Length, byIds.RootElement.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
    }

    [Stories260KTheory]
    [InlineData("[1, 99999]", "token id 99999 is outside the vocabulary")]
    [InlineData("[1, -3]", "element 1 of the token-id prompt is -3")]
    [InlineData("[1, 2.5]", "element 1 of the token-id prompt is 2.5")]
    [InlineData("[[]]", "the token-id prompt is empty")]
    public async Task Completions_BadTokenIdPrompt_Is400NamingPrompt(string prompt, string message)
    {
        using var client = fixture.CreateModelServerClient(0);

        using var response = await PostCompletionAsync(client, $$"""{"prompt": {{prompt}}, "max_tokens": 2}""");
        using var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(System.Net.HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("prompt", error.RootElement.GetProperty("error").GetProperty("param").GetString());
        Assert.Contains(message, error.RootElement.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Stories260KTheory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(40)]
    public async Task Completions_MaxTokensReached_FinishesOnLengthWithThatManyTokens(int maxTokens)
    {
        using var client = fixture.CreateModelServerClient(0);

        using var completion = await CompleteAsync(client, Json(new Dictionary<string, object?>
        {
            ["prompt"] = StoryPrompt,
            ["max_tokens"] = maxTokens,
            ["temperature"] = 0,
        }));

        var choice = completion.RootElement.GetProperty("choices")[0];
        Assert.Equal("length", choice.GetProperty("finish_reason").GetString());
        Assert.StartsWith(choice.GetProperty("text").GetString()!, KnownContinuation, StringComparison.Ordinal);
        var usage = completion.RootElement.GetProperty("usage");
        Assert.Equal(maxTokens, usage.GetProperty("completion_tokens").GetInt32());
    }

    [Stories260KFact]
    public async Task Completions_Usage_CountsThePromptWithBosAndAddsUp()
    {
        using var client = fixture.CreateModelServerClient(0);

        using var completion = await CompleteAsync(client, Json(new Dictionary<string, object?>
        {
            ["prompt"] = StoryPrompt,
            ["max_tokens"] = 5,
            ["temperature"] = 0,
        }));

        var usage = completion.RootElement.GetProperty("usage");
        Assert.Equal(["prompt_tokens", "completion_tokens", "total_tokens", "prompt_tokens_details"], usage.EnumerateObject().Select(p => p.Name));
        Assert.Equal(["cached_tokens"], usage.GetProperty("prompt_tokens_details").EnumerateObject().Select(p => p.Name));
        var prompt = usage.GetProperty("prompt_tokens").GetInt32();
        var generated = usage.GetProperty("completion_tokens").GetInt32();
        // BOS plus at least one token per word of "Once upon a time".
        Assert.InRange(prompt, 5, StoryPrompt.Length + 1);
        Assert.Equal(5, generated);
        Assert.Equal(prompt + generated, usage.GetProperty("total_tokens").GetInt32());
    }

    [Stories260KTheory]
    [InlineData("\"Lily\"", ", there was a little girl named ")]
    [InlineData("[\"park\", \"red\"]", ", there was a little girl named Lily. She loved to play outside in the ")]
    [InlineData("[\"ittle g\"]", ", there was a l")]
    public async Task Completions_StopString_EndsBeforeItWithFinishReasonStop(string stop, string expected)
    {
        using var client = fixture.CreateModelServerClient(0);

        using var completion = await CompleteAsync(
            client,
            $$"""{"prompt":"{{StoryPrompt}}","max_tokens":60,"temperature":0,"stop":{{stop}}}""");

        var choice = completion.RootElement.GetProperty("choices")[0];
        Assert.Equal(expected, choice.GetProperty("text").GetString());
        Assert.Equal("stop", choice.GetProperty("finish_reason").GetString());
        Assert.True(completion.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32() < 60);
    }

    [Stories260KFact]
    public async Task Completions_PromptAsArrayOfOneString_IsTheSameAsTheString()
    {
        using var client = fixture.CreateModelServerClient(0);

        using var completion = await CompleteAsync(client, Json(new Dictionary<string, object?>
        {
            ["prompt"] = new[] { StoryPrompt },
            ["max_tokens"] = 10,
            ["temperature"] = 0,
        }));

        Assert.StartsWith(
            completion.RootElement.GetProperty("choices")[0].GetProperty("text").GetString()!,
            KnownContinuation,
            StringComparison.Ordinal);
    }

    [Stories260KFact]
    public async Task Completions_SameSeed_SamplesTheSameText()
    {
        using var client = fixture.CreateModelServerClient(0);
        var json = Json(new Dictionary<string, object?>
        {
            ["prompt"] = StoryPrompt,
            ["max_tokens"] = 40,
            ["temperature"] = 1,
            ["top_p"] = 0.9,
            ["seed"] = 42,
        });

        using var first = await CompleteAsync(client, json);
        using var second = await CompleteAsync(client, json);

        Assert.Equal(
            first.RootElement.GetProperty("choices")[0].GetProperty("text").GetString(),
            second.RootElement.GetProperty("choices")[0].GetProperty("text").GetString());
    }
}
