using LlmAspire.Tests.Inference;
using System.Net;
using System.Text.Json;
using LlmAspire.Tests.AppHost;
using static LlmAspire.Tests.ModelServer.ModelServerHttp;

namespace LlmAspire.Tests.ModelServer.Apis;

/// <summary>
/// The sampling and stopping parameters of both endpoints: every one accepted within its range, every bad value refused
/// with a 400 in the OpenAI error shape naming it, and the ones with a visible effect shown to take it.
/// </summary>
[Collection(AspireAppCollection.Name)]
public sealed class SamplingParametersTests(AspireAppFixture fixture)
{
    public static TheoryData<string, string> Accepted { get; } = new()
    {
        { "temperature", "0.7" },
        { "top_p", "0.9" },
        { "top_k", "40" },
        { "top_k", "-1" },
        { "min_p", "0.05" },
        { "seed", "1234567890123" },
        { "presence_penalty", "0.5" },
        { "frequency_penalty", "-0.5" },
        { "repetition_penalty", "1.2" },
        { "logit_bias", """{"100": 5, "200": -100}""" },
        { "stop", """["\n\n", "The end", ".", "!"]""" },
        { "n", "3" },
        { "n", "16" },
        { "user", "\"someone\"" },
    };

    public static TheoryData<string, string, string, string> Rejected { get; } = new()
    {
        { "temperature", "2.1", "temperature", "decimal_above_max_value" },
        { "temperature", "-1", "temperature", "decimal_below_min_value" },
        { "top_p", "0", "top_p", "decimal_below_min_value" },
        { "top_p", "1.01", "top_p", "decimal_above_max_value" },
        // Positive doubles that are 0 as the float the sampler uses: refused here, not a 500 from the engine.
        { "top_p", "1e-320", "top_p", "decimal_below_min_value" },
        { "top_k", "-2", "top_k", "integer_below_min_value" },
        { "top_k", "1.5", "top_k", "invalid_json" },
        { "min_p", "-0.1", "min_p", "decimal_below_min_value" },
        { "min_p", "1.5", "min_p", "decimal_above_max_value" },
        { "seed", "\"abc\"", "seed", "invalid_json" },
        { "presence_penalty", "2.5", "presence_penalty", "decimal_above_max_value" },
        { "presence_penalty", "-2.5", "presence_penalty", "decimal_below_min_value" },
        { "frequency_penalty", "3", "frequency_penalty", "decimal_above_max_value" },
        { "frequency_penalty", "-3", "frequency_penalty", "decimal_below_min_value" },
        { "repetition_penalty", "0", "repetition_penalty", "decimal_below_min_value" },
        { "repetition_penalty", "1e-320", "repetition_penalty", "decimal_below_min_value" },
        { "repetition_penalty", "2.5", "repetition_penalty", "decimal_above_max_value" },
        { "logit_bias", """{"abc": 1}""", "logit_bias", "invalid_value" },
        { "logit_bias", """{"-1": 1}""", "logit_bias", "invalid_value" },
        { "logit_bias", """{"5": 101}""", "logit_bias", "invalid_value" },
        { "logit_bias", """{"5": -100.5}""", "logit_bias", "invalid_value" },
        { "logit_bias", """{"5": "up"}""", "logit_bias", "invalid_type" },
        { "logit_bias", "[1, 2]", "logit_bias", "invalid_type" },
        { "logit_bias", """{"512": 1}""", "logit_bias", "invalid_value" },
        { "stop", """["a","b","c","d","e"]""", "stop", "array_above_max_length" },
        { "stop", "\"\"", "stop", "invalid_value" },
        { "stop", "[1]", "stop", "invalid_type" },
        { "n", "0", "n", "integer_below_min_value" },
        { "n", "17", "n", "integer_above_max_value" },
        { "stream_options", """{"include_usage": true}""", "stream_options", "invalid_value" },
    };

    [Stories260KTheory]
    [MemberData(nameof(Accepted))]
    public async Task Completions_AcceptedParameter_Completes(string name, string value)
    {
        using var client = fixture.CreateModelServerClient(0);

        using var completion = await CompleteAsync(client, $$"""{"prompt":"{{StoryPrompt}}","max_tokens":4,"{{name}}":{{value}}}""");

        var choices = completion.RootElement.GetProperty("choices").EnumerateArray().ToList();
        Assert.Equal(name == "n" ? int.Parse(value, System.Globalization.CultureInfo.InvariantCulture) : 1, choices.Count);
    }

    [Stories260KTheory]
    [MemberData(nameof(Accepted))]
    public async Task ChatCompletions_AcceptedParameter_Completes(string name, string value)
    {
        using var client = fixture.CreateModelServerClient(1);

        using var completion = await ChatAsync(client, $$"""{"messages":[{"role":"user","content":"Hi"}],"max_tokens":4,"{{name}}":{{value}}}""");

        Assert.NotEmpty(completion.RootElement.GetProperty("choices").EnumerateArray());
    }

    [Stories260KTheory]
    [MemberData(nameof(Rejected))]
    public async Task Completions_BadParameter_IsRefusedNamingIt(string name, string value, string param, string code)
    {
        using var client = fixture.CreateModelServerClient(0);

        using var response = await PostCompletionAsync(client, $$"""{"prompt":"x","max_tokens":4,"{{name}}":{{value}}}""");

        await AssertErrorAsync(response, HttpStatusCode.BadRequest, "invalid_request_error", param, code);
    }

    [Stories260KTheory]
    [MemberData(nameof(Rejected))]
    public async Task ChatCompletions_BadParameter_IsRefusedNamingIt(string name, string value, string param, string code)
    {
        using var client = fixture.CreateModelServerClient(1);

        using var response = await PostAsync(client, ChatCompletionsUri, $$"""{"messages":[{"role":"user","content":"x"}],"max_tokens":4,"{{name}}":{{value}}}""");

        await AssertErrorAsync(response, HttpStatusCode.BadRequest, "invalid_request_error", param, code);
    }

    [Stories260KTheory]
    [InlineData("/v1/completions", """{"prompt":"Once upon a time","max_tokens":510}""")]
    [InlineData("/v1/chat/completions", """{"messages":[{"role":"user","content":"Hi"}],"max_tokens":510}""")]
    public async Task PromptPlusMaxTokensBeyondTheContext_IsContextLengthExceededOnMaxTokens(string path, string json)
    {
        using var client = fixture.CreateModelServerClient(0);

        using var response = await PostAsync(client, new Uri(path, UriKind.Relative), json);

        await AssertErrorAsync(response, HttpStatusCode.BadRequest, "invalid_request_error", "max_tokens", "context_length_exceeded");
    }

    [Stories260KFact]
    public async Task LogitBias_PlusOneHundredOnAToken_GeneratesOnlyThatToken()
    {
        using var client = fixture.CreateModelServerClient(0);

        // Token 300 of tok512, whatever its text: with +100 nothing else can be sampled, even at temperature 1.
        using var biased = await CompleteAsync(client, """{"prompt":"Once upon a time","max_tokens":6,"temperature":1,"logit_bias":{"300":100},"logprobs":0}""");

        var logprobs = biased.RootElement.GetProperty("choices")[0].GetProperty("logprobs");
        var tokens = logprobs.GetProperty("tokens").EnumerateArray().Select(token => token.GetString()).ToList();
        Assert.Equal(6, tokens.Count);
        Assert.Single(tokens.Distinct());
    }

    [Stories260KFact]
    public async Task TopK_One_IsGreedyAtAnyTemperature()
    {
        using var client = fixture.CreateModelServerClient(0);

        using var topK = await CompleteAsync(client, """{"prompt":"Once upon a time","max_tokens":30,"temperature":1.5,"top_k":1}""");

        Assert.StartsWith(
            topK.RootElement.GetProperty("choices")[0].GetProperty("text").GetString()!,
            KnownContinuation,
            StringComparison.Ordinal);
    }

    [Stories260KFact]
    public async Task Seed_SameSeedTwoChoices_GivesDifferentChoicesButTheSameRequestAgain()
    {
        using var client = fixture.CreateModelServerClient(1);
        var json = """{"prompt":"Once upon a time","max_tokens":30,"temperature":1,"seed":11,"n":2,"logit_bias":{"2":-100}}""";

        using var first = await CompleteAsync(client, json);
        using var second = await CompleteAsync(client, json);

        static string[] Texts(JsonDocument document) =>
            [.. document.RootElement.GetProperty("choices").EnumerateArray().Select(choice => choice.GetProperty("text").GetString()!)];
        Assert.Equal(Texts(first), Texts(second));
        Assert.NotEqual(Texts(first)[0], Texts(first)[1]);
    }
}
