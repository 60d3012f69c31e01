using LlmAspire.Tests.Inference;
using System.Net;
using System.Text;
using System.Text.Json;
using LlmAspire.Tests.AppHost;
using static LlmAspire.Tests.ModelServer.ModelServerHttp;

namespace LlmAspire.Tests.ModelServer.Apis;

/// <summary>
/// <c>POST /v1/chat/completions</c> in the OpenAI shapes. stories260K has no chat template, so the plain fallback
/// renders the conversation ("User: …\nAssistant:").
/// </summary>
[Collection(AspireAppCollection.Name)]
public sealed class ChatCompletionsApiTests(AspireAppFixture fixture)
{
    private static readonly object[] s_hello = [new Dictionary<string, object?> { ["role"] = "user", ["content"] = "Hello" }];

    [Stories260KFact]
    public async Task ChatCompletions_Greedy_AnswersAChatCompletionInTheOpenAIShape()
    {
        using var client = fixture.CreateModelServerClient(0);

        using var completion = await ChatAsync(client, Json(new Dictionary<string, object?>
        {
            ["model"] = AspireAppFixture.ModelId,
            ["messages"] = s_hello,
            ["max_completion_tokens"] = 12,
            ["temperature"] = 0,
            ["logit_bias"] = NoEos,
        }));

        var root = completion.RootElement;
        Assert.Equal(["id", "object", "created", "model", "choices", "usage"], root.EnumerateObject().Select(p => p.Name));
        Assert.StartsWith("chatcmpl-", root.GetProperty("id").GetString(), StringComparison.Ordinal);
        Assert.Equal("chat.completion", root.GetProperty("object").GetString());
        Assert.Equal(AspireAppFixture.ModelId, root.GetProperty("model").GetString());

        var choice = Assert.Single(root.GetProperty("choices").EnumerateArray());
        Assert.Equal(["index", "message", "logprobs", "finish_reason"], choice.EnumerateObject().Select(p => p.Name));
        Assert.Equal(0, choice.GetProperty("index").GetInt32());
        var message = choice.GetProperty("message");
        Assert.Equal(["role", "content", "refusal"], message.EnumerateObject().Select(p => p.Name));
        Assert.Equal("assistant", message.GetProperty("role").GetString());
        Assert.False(string.IsNullOrEmpty(message.GetProperty("content").GetString()));
        Assert.Equal(JsonValueKind.Null, message.GetProperty("refusal").ValueKind);
        Assert.Equal(JsonValueKind.Null, choice.GetProperty("logprobs").ValueKind);
        Assert.Equal("length", choice.GetProperty("finish_reason").GetString());

        var usage = root.GetProperty("usage");
        Assert.Equal(["prompt_tokens", "completion_tokens", "total_tokens", "prompt_tokens_details"], usage.EnumerateObject().Select(p => p.Name));
        Assert.Equal(12, usage.GetProperty("completion_tokens").GetInt32());
        // BOS + "User: Hello\nAssistant:".
        Assert.InRange(usage.GetProperty("prompt_tokens").GetInt32(), 5, 30);
        Assert.Equal(usage.GetProperty("prompt_tokens").GetInt32() + 12, usage.GetProperty("total_tokens").GetInt32());
    }

    [Stories260KFact]
    public async Task ChatCompletions_Streamed_RoleFirstThenContentThenFinishThenUsageThenDone()
    {
        using var client = fixture.CreateModelServerClient(0);
        var body = new Dictionary<string, object?>
        {
            ["messages"] = s_hello,
            ["max_tokens"] = 20,
            ["temperature"] = 0,
            ["logit_bias"] = NoEos,
        };
        using var whole = await ChatAsync(client, Json(body));
        body["stream"] = true;
        body["stream_options"] = new Dictionary<string, object?> { ["include_usage"] = true };

        var events = await StreamAsync(client, ChatCompletionsUri, Json(body));

        Assert.Equal("[DONE]", events[^1]);
        var chunks = events.SkipLast(1).Select(data => JsonDocument.Parse(data)).ToList();
        try
        {
            var id = chunks[0].RootElement.GetProperty("id").GetString();
            Assert.StartsWith("chatcmpl-", id, StringComparison.Ordinal);
            foreach (var chunk in chunks)
            {
                var root = chunk.RootElement;
                Assert.Equal(["id", "object", "created", "model", "choices", "usage"], root.EnumerateObject().Select(p => p.Name));
                Assert.Equal(id, root.GetProperty("id").GetString());
                Assert.Equal("chat.completion.chunk", root.GetProperty("object").GetString());
            }

            // The first delta has the role and empty content; later ones content only; the last an empty delta and the finish reason.
            var choices = chunks.SkipLast(1).Select(chunk => Assert.Single(chunk.RootElement.GetProperty("choices").EnumerateArray())).ToList();
            Assert.Equal("""{"role":"assistant","content":""}""", choices[0].GetProperty("delta").GetRawText());
            var text = new StringBuilder();
            for (var i = 0; i < choices.Count; i++)
            {
                Assert.Equal(["index", "delta", "logprobs", "finish_reason"], choices[i].EnumerateObject().Select(p => p.Name));
                Assert.Equal(0, choices[i].GetProperty("index").GetInt32());
                Assert.Equal(JsonValueKind.Null, chunks[i].RootElement.GetProperty("usage").ValueKind);
                var delta = choices[i].GetProperty("delta");
                if (i == choices.Count - 1)
                {
                    Assert.Equal("{}", delta.GetRawText());
                    Assert.Equal("length", choices[i].GetProperty("finish_reason").GetString());
                }
                else
                {
                    Assert.Equal(JsonValueKind.Null, choices[i].GetProperty("finish_reason").ValueKind);
                    if (i > 0)
                    {
                        Assert.Equal(["content"], delta.EnumerateObject().Select(p => p.Name));
                    }

                    text.Append(delta.GetProperty("content").GetString());
                }
            }

            Assert.Equal(whole.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString(), text.ToString());

            var usageChunk = chunks[^1].RootElement;
            Assert.Empty(usageChunk.GetProperty("choices").EnumerateArray());
            var usage = usageChunk.GetProperty("usage");
            Assert.Equal(20, usage.GetProperty("completion_tokens").GetInt32());
            Assert.Equal(whole.RootElement.GetProperty("usage").GetProperty("prompt_tokens").GetInt32(), usage.GetProperty("prompt_tokens").GetInt32());
        }
        finally
        {
            chunks.ForEach(chunk => chunk.Dispose());
        }
    }

    [Stories260KFact]
    public async Task ChatCompletions_StreamedWithoutUsage_SendsNoUsageField()
    {
        using var client = fixture.CreateModelServerClient(1);

        var events = await StreamAsync(client, ChatCompletionsUri, Json(new Dictionary<string, object?>
        {
            ["messages"] = s_hello,
            ["max_tokens"] = 4,
            ["stream"] = true,
        }));

        Assert.Equal("[DONE]", events[^1]);
        foreach (var data in events.SkipLast(1))
        {
            using var chunk = JsonDocument.Parse(data);
            Assert.Equal(["id", "object", "created", "model", "choices"], chunk.RootElement.EnumerateObject().Select(p => p.Name));
            Assert.Single(chunk.RootElement.GetProperty("choices").EnumerateArray());
        }
    }

    [Stories260KFact]
    public async Task ChatCompletions_TwoChoicesStreamed_EachIndexHasItsRoleContentAndFinish()
    {
        using var client = fixture.CreateModelServerClient(0);

        var events = await StreamAsync(client, ChatCompletionsUri, Json(new Dictionary<string, object?>
        {
            ["messages"] = s_hello,
            ["max_tokens"] = 10,
            ["n"] = 2,
            ["temperature"] = 1,
            ["seed"] = 3,
            ["logit_bias"] = NoEos,
            ["stream"] = true,
            ["stream_options"] = new Dictionary<string, object?> { ["include_usage"] = true },
        }));

        Assert.Equal("[DONE]", events[^1]);
        var byIndex = new Dictionary<int, List<JsonElement>>();
        var documents = events.SkipLast(2).Select(data => JsonDocument.Parse(data)).ToList();
        try
        {
            foreach (var document in documents)
            {
                var choice = Assert.Single(document.RootElement.GetProperty("choices").EnumerateArray());
                var index = choice.GetProperty("index").GetInt32();
                (byIndex.TryGetValue(index, out var list) ? list : byIndex[index] = []).Add(choice);
            }

            Assert.Equal([0, 1], byIndex.Keys.Order());
            foreach (var choices in byIndex.Values)
            {
                Assert.Equal("assistant", choices[0].GetProperty("delta").GetProperty("role").GetString());
                Assert.All(choices.SkipLast(1), choice => Assert.Equal(JsonValueKind.Null, choice.GetProperty("finish_reason").ValueKind));
                Assert.Equal("length", choices[^1].GetProperty("finish_reason").GetString());
                Assert.True(choices.Count > 2, "role, content, finish");
            }

            using var usage = JsonDocument.Parse(events[^2]);
            Assert.Equal(20, usage.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        }
        finally
        {
            documents.ForEach(document => document.Dispose());
        }
    }

    [Stories260KFact]
    public async Task ChatCompletions_TwoChoices_ReturnsBothIndexesAndCountsBothInUsage()
    {
        using var client = fixture.CreateModelServerClient(0);

        using var completion = await ChatAsync(client, Json(new Dictionary<string, object?>
        {
            ["messages"] = s_hello,
            ["max_tokens"] = 8,
            ["n"] = 2,
            ["logit_bias"] = NoEos,
        }));

        var choices = completion.RootElement.GetProperty("choices").EnumerateArray().ToList();
        Assert.Equal([0, 1], choices.Select(choice => choice.GetProperty("index").GetInt32()));
        Assert.All(choices, choice => Assert.Equal("length", choice.GetProperty("finish_reason").GetString()));
        Assert.Equal(16, completion.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
    }

    [Stories260KFact]
    public async Task ChatCompletions_ContentAsTextParts_IsTheSameAsTheString()
    {
        using var client = fixture.CreateModelServerClient(1);
        var asString = new Dictionary<string, object?>
        {
            ["messages"] = new object[]
            {
                new Dictionary<string, object?> { ["role"] = "system", ["content"] = "Tell a story." },
                new Dictionary<string, object?> { ["role"] = "user", ["content"] = "A cat" },
            },
            ["max_tokens"] = 10,
            ["temperature"] = 0,
        };
        var asParts = new Dictionary<string, object?>(asString)
        {
            ["messages"] = new object[]
            {
                new Dictionary<string, object?> { ["role"] = "developer", ["content"] = new object[] { new Dictionary<string, object?> { ["type"] = "text", ["text"] = "Tell a story." } } },
                new Dictionary<string, object?> { ["role"] = "user", ["content"] = new object[] { new Dictionary<string, object?> { ["type"] = "text", ["text"] = "A cat" } } },
            },
        };

        using var first = await ChatAsync(client, Json(asString));
        using var second = await ChatAsync(client, Json(asParts));

        Assert.Equal(
            first.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString(),
            second.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
        Assert.Equal(
            first.RootElement.GetProperty("usage").GetProperty("prompt_tokens").GetInt32(),
            second.RootElement.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
    }

    [Stories260KFact]
    public async Task ChatCompletions_NoBudget_MayFillTheContext()
    {
        using var client = fixture.CreateModelServerClient(1);

        using var completion = await ChatAsync(client, Json(new Dictionary<string, object?>
        {
            ["messages"] = s_hello,
            ["temperature"] = 0,
            ["logit_bias"] = NoEos,
        }));

        var usage = completion.RootElement.GetProperty("usage");
        Assert.Equal(512, usage.GetProperty("total_tokens").GetInt32());
        Assert.Equal("length", completion.RootElement.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
    }

    public static TheoryData<string, string?, string> BadMessages { get; } = new()
    {
        { """{"max_tokens":4}""", "messages", "missing_required_parameter" },
        { """{"messages":"hi"}""", "messages", "invalid_type" },
        { """{"messages":[]}""", "messages", "empty_array" },
        { """{"messages":[{"content":"hi"}]}""", "messages[0].role", "missing_required_parameter" },
        { """{"messages":[{"role":"function","content":"42","name":"f"}]}""", "messages[0].role", "invalid_value" },
        { """{"messages":[{"role":"tool","content":"42"}]}""", "messages[0].tool_call_id", "missing_required_parameter" },
        { """{"messages":[{"role":"robot","content":"hi"}]}""", "messages[0].role", "invalid_value" },
        { """{"messages":[{"role":"user"}]}""", "messages[0].content", "missing_required_parameter" },
        { """{"messages":[{"role":"user","content":42}]}""", "messages[0].content", "invalid_type" },
        { """{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"http://x/y.png"}}]}]}""", "messages[0].content[0].type", "unsupported_value" },
        { """{"messages":[{"role":"user","content":[{"type":"text"}]}]}""", "messages[0].content[0].text", "missing_required_parameter" },
        { """{"messages":[{"role":"assistant","content":null,"tool_calls":[{"type":"function","function":{"name":"f","arguments":"{}"}}]}]}""", "messages[0].tool_calls[0].id", "missing_required_parameter" },
        { """{"messages":[{"role":"user","content":"hi"}],"tools":{"type":"function"}}""", "tools", "invalid_type" },
        { """{"messages":[{"role":"user","content":"hi"}],"response_format":{"type":"xml"}}""", "response_format.type", "invalid_value" },
        { """{"messages":[{"role":"user","content":"hi"}],"response_format":{"type":"json_schema","json_schema":{"schema":{}}}}""", "response_format.json_schema.name", "missing_required_parameter" },
        { """{"messages":[{"role":"user","content":"hi"}],"response_format":{"type":"json_schema","json_schema":{"name":"x","schema":{"type":"object","not":{}}}}}""", "response_format.json_schema.schema", "invalid_value" },
        { """{"messages":[{"role":"user","content":"hi"}],"max_completion_tokens":0}""", "max_completion_tokens", "integer_below_min_value" },
        { """{"messages":[{"role":"user","content":"hi"}],"max_completion_tokens":100000}""", "max_completion_tokens", "integer_above_max_value" },
        { """{"messages":[{"role":"user","content":"hi"}],"max_completion_tokens":510}""", "max_completion_tokens", "context_length_exceeded" },
        { """{"messages":[{"role":"user","content":"hi"}],"max_tokens":510}""", "max_tokens", "context_length_exceeded" },
        { """{"messages":[{"role":"user","content":"hi"}],"logprobs":"yes"}""", "logprobs", "invalid_json" },
        { """{"messages":[{"role":"user","content":"hi"}],"top_logprobs":3}""", "top_logprobs", "invalid_value" },
        { """{"messages":[{"role":"user","content":"hi"}],"logprobs":true,"top_logprobs":21}""", "top_logprobs", "integer_above_max_value" },
        { """{"messages":[{"role":"user","content":"hi"}],"logprobs":true,"top_logprobs":-1}""", "top_logprobs", "integer_below_min_value" },
        { """{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}""", "model", "model_not_found" },
    };

    [Stories260KTheory]
    [MemberData(nameof(BadMessages))]
    public async Task ChatCompletions_BadRequest_AnswersTheOpenAIErrorShapeNamingTheParam(string json, string? param, string code)
    {
        using var client = fixture.CreateModelServerClient(0);

        using var response = await PostAsync(client, ChatCompletionsUri, json);

        var status = code == "model_not_found" ? HttpStatusCode.NotFound : HttpStatusCode.BadRequest;
        await AssertErrorAsync(response, status, "invalid_request_error", param, code);
    }

    [Stories260KFact]
    public async Task ChatCompletions_ConversationLongerThanTheContext_IsContextLengthExceededOnThePrompt()
    {
        using var client = fixture.CreateModelServerClient(0);
        var story = string.Concat(Enumerable.Repeat("Once upon a time ", 200));

        using var response = await PostAsync(client, ChatCompletionsUri, Json(new Dictionary<string, object?>
        {
            ["messages"] = new object[] { new Dictionary<string, object?> { ["role"] = "user", ["content"] = story } },
        }));

        await AssertErrorAsync(response, HttpStatusCode.BadRequest, "invalid_request_error", "prompt", "context_length_exceeded");
    }
}
