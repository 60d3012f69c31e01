extern alias JsonEverything;

using System.Net;
using System.Text;
using System.Text.Json;
using JsonEverything::Json.Schema;
using LlmAspire.Tests.AppHost;
using LlmAspire.Tests.Inference;
using static LlmAspire.Tests.ModelServer.ModelServerHttp;

namespace LlmAspire.Tests.ModelServer.Apis;

/// <summary>
/// Function calling over HTTP on a real model server (stories260K, which has no chat template: the generic format;
/// its context is 512 tokens and its tokenizer spends about a token per character of JSON, hence the small schemas).
/// Sampled at temperature 1 so that only the grammar keeps the calls well formed: every call names a function of the
/// request and its arguments validate against that function's schema (JsonSchema.Net); streamed calls arrive in
/// OpenAI's delta shape; a whole tool loop's history (assistant calls, tool results) is accepted; bad tool fields are
/// 400s naming the parameter.
/// </summary>
[Collection(AspireAppCollection.Name)]
public sealed class ToolCallingApiTests(AspireAppFixture fixture)
{
    private const string WeatherSchema = """
        {"type":"object","properties":{"city":{"type":"string","maxLength":8}},"required":["city"],"additionalProperties":false}
        """;

    private const string TimeSchema = """
        {"type":"object","properties":{"zone":{"enum":["UTC","CET"]}},"additionalProperties":false}
        """;

    private static readonly object[] s_messages = [new Dictionary<string, object?> { ["role"] = "user", ["content"] = "What is the weather in Paris?" }];

    private static object[] Tools()
    {
        using var weather = JsonDocument.Parse(WeatherSchema);
        using var time = JsonDocument.Parse(TimeSchema);
        return
        [
            new { type = "function", function = new { name = "get_weather", parameters = weather.RootElement.Clone() } },
            new { type = "function", function = new { name = "get_time", parameters = time.RootElement.Clone() } },
        ];
    }

    [Stories260KFact]
    public async Task Required_EverySampledChoiceCallsAFunctionWithValidArguments()
    {
        using var client = fixture.CreateModelServerClient(0);

        using var completion = await ChatAsync(client, Json(new Dictionary<string, object?>
        {
            ["model"] = AspireAppFixture.ModelId,
            ["messages"] = s_messages,
            ["tools"] = Tools(),
            ["tool_choice"] = "required",
            ["parallel_tool_calls"] = false,
            ["temperature"] = 1,
            ["seed"] = 11,
            ["n"] = 4,
        }));

        var choices = completion.RootElement.GetProperty("choices").EnumerateArray().ToList();
        Assert.Equal(4, choices.Count);
        foreach (JsonElement choice in choices)
        {
            Assert.Equal("tool_calls", choice.GetProperty("finish_reason").GetString());
            JsonElement message = choice.GetProperty("message");
            Assert.Equal(JsonValueKind.Null, message.GetProperty("content").ValueKind);
            var calls = message.GetProperty("tool_calls").EnumerateArray().ToList();
            Assert.NotEmpty(calls);
            foreach (JsonElement call in calls)
            {
                Assert.Matches("^call_[A-Za-z0-9]{24}$", call.GetProperty("id").GetString());
                Assert.Equal("function", call.GetProperty("type").GetString());
                AssertValidCall(call.GetProperty("function").GetProperty("name").GetString()!, call.GetProperty("function").GetProperty("arguments").GetString()!);
            }
        }
    }

    [Stories260KFact]
    public async Task Required_Parallel_EveryCompleteCallIsValid()
    {
        using var client = fixture.CreateModelServerClient(0);

        using var completion = await ChatAsync(client, Json(new Dictionary<string, object?>
        {
            ["model"] = AspireAppFixture.ModelId,
            ["messages"] = s_messages,
            ["tools"] = Tools(),
            ["tool_choice"] = "required",
            ["temperature"] = 1,
            ["seed"] = 21,
            ["n"] = 4,
        }));

        foreach (JsonElement choice in completion.RootElement.GetProperty("choices").EnumerateArray())
        {
            // Calls may follow one another until the model stops or the context is full (then the last call is cut short).
            string finish = choice.GetProperty("finish_reason").GetString()!;
            Assert.Contains(finish, (string[])["tool_calls", "length"]);
            var calls = choice.GetProperty("message").GetProperty("tool_calls").EnumerateArray().ToList();
            foreach (JsonElement call in finish == "length" ? calls.SkipLast(1) : calls)
            {
                AssertValidCall(call.GetProperty("function").GetProperty("name").GetString()!, call.GetProperty("function").GetProperty("arguments").GetString()!);
            }
        }
    }

    [Stories260KFact]
    public async Task NamedFunction_NotParallel_ExactlyOneCallOfIt()
    {
        using var client = fixture.CreateModelServerClient(0);

        using var completion = await ChatAsync(client, Json(new Dictionary<string, object?>
        {
            ["model"] = AspireAppFixture.ModelId,
            ["messages"] = s_messages,
            ["tools"] = Tools(),
            ["tool_choice"] = new { type = "function", function = new { name = "get_time" } },
            ["parallel_tool_calls"] = false,
            ["temperature"] = 1,
            ["seed"] = 5,
            ["n"] = 3,
        }));

        foreach (JsonElement choice in completion.RootElement.GetProperty("choices").EnumerateArray())
        {
            JsonElement call = Assert.Single(choice.GetProperty("message").GetProperty("tool_calls").EnumerateArray().ToList());
            Assert.Equal("get_time", call.GetProperty("function").GetProperty("name").GetString());
            AssertValidCall("get_time", call.GetProperty("function").GetProperty("arguments").GetString()!);
        }
    }

    [Stories260KFact]
    public async Task Required_Streamed_DeltasAssembleIntoTheCalls()
    {
        using var client = fixture.CreateModelServerClient(0);

        IReadOnlyList<string> events = await StreamAsync(client, ChatCompletionsUri, Json(new Dictionary<string, object?>
        {
            ["model"] = AspireAppFixture.ModelId,
            ["messages"] = s_messages,
            ["tools"] = Tools(),
            ["tool_choice"] = "required",
            ["parallel_tool_calls"] = false,
            ["temperature"] = 1,
            ["seed"] = 3,
            ["stream"] = true,
        }));

        Assert.Equal("[DONE]", events[^1]);
        var names = new Dictionary<int, string>();
        var arguments = new Dictionary<int, StringBuilder>();
        string? finish = null;
        foreach (string data in events.SkipLast(1))
        {
            using JsonDocument chunk = JsonDocument.Parse(data);
            JsonElement choice = chunk.RootElement.GetProperty("choices")[0];
            finish ??= StringOrNull(choice.GetProperty("finish_reason"));
            JsonElement delta = choice.GetProperty("delta");
            if (delta.TryGetProperty("content", out JsonElement content) && content.ValueKind == JsonValueKind.String)
            {
                Assert.True(content.GetString()!.Length == 0, $"content '{content}' in a required-call answer");
            }

            if (!delta.TryGetProperty("tool_calls", out JsonElement toolCalls))
            {
                continue;
            }

            foreach (JsonElement piece in toolCalls.EnumerateArray())
            {
                int index = piece.GetProperty("index").GetInt32();
                JsonElement function = piece.GetProperty("function");
                if (piece.TryGetProperty("id", out JsonElement id))
                {
                    Assert.False(names.ContainsKey(index), "a call started twice");
                    Assert.Matches("^call_", id.GetString());
                    Assert.Equal("function", piece.GetProperty("type").GetString());
                    names[index] = function.GetProperty("name").GetString()!;
                    arguments[index] = new StringBuilder();
                }

                if (function.TryGetProperty("arguments", out JsonElement more))
                {
                    arguments[index].Append(more.GetString());
                }
            }
        }

        Assert.Equal("tool_calls", finish);
        Assert.NotEmpty(names);
        Assert.Equal(Enumerable.Range(0, names.Count), names.Keys.Order());
        foreach ((int index, string name) in names)
        {
            AssertValidCall(name, arguments[index].ToString());
        }
    }

    [Stories260KFact]
    public async Task Auto_AnswersInTextOrValidCalls_AndAcceptsAWholeToolLoopHistory()
    {
        using var client = fixture.CreateModelServerClient(0);
        object[] history =
        [
            new Dictionary<string, object?> { ["role"] = "user", ["content"] = "What is the weather in Paris?" },
            new Dictionary<string, object?>
            {
                ["role"] = "assistant",
                ["content"] = null,
                ["tool_calls"] = new[] { new { id = "call_1", type = "function", function = new { name = "get_weather", arguments = """{"city":"Paris"}""" } } },
            },
            new Dictionary<string, object?> { ["role"] = "tool", ["tool_call_id"] = "call_1", ["content"] = "Sunny" },
        ];

        using var completion = await ChatAsync(client, Json(new Dictionary<string, object?>
        {
            ["model"] = AspireAppFixture.ModelId,
            ["messages"] = history,
            ["tools"] = Tools()[..1],
            ["temperature"] = 1,
            ["seed"] = 9,
            ["n"] = 4,
            ["max_completion_tokens"] = 16,
        }));

        foreach (JsonElement choice in completion.RootElement.GetProperty("choices").EnumerateArray())
        {
            JsonElement message = choice.GetProperty("message");
            string finish = choice.GetProperty("finish_reason").GetString()!;
            if (message.TryGetProperty("tool_calls", out JsonElement calls))
            {
                Assert.Equal("tool_calls", finish);
                foreach (JsonElement call in calls.EnumerateArray())
                {
                    AssertValidCall(call.GetProperty("function").GetProperty("name").GetString()!, call.GetProperty("function").GetProperty("arguments").GetString()!);
                }
            }
            else
            {
                Assert.Contains(finish, (string[])["stop", "length"]);
                Assert.DoesNotContain("<tool_call>", message.GetProperty("content").GetString(), StringComparison.Ordinal);
            }
        }
    }

    public static TheoryData<string, string, string> BadTools() => new()
    {
        { """{"messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":{"type":"function","function":{"name":"g"}}}""", "tool_choice.function.name", "'g' is not among" },
        { """{"messages":[{"role":"user","content":"x"}],"tool_choice":"required"}""", "tool_choice", "only allowed when 'tools'" },
        { """{"messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":"sometimes"}""", "tool_choice", "'sometimes'" },
        { """{"messages":[{"role":"user","content":"x"}],"tools":[{"type":"web_search"}]}""", "tools[0].type", "'web_search'" },
        { """{"messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"bad name"}}]}""", "tools[0].function.name", "pattern" },
        { """{"messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object","patternProperties":{"^a":{}}}}}]}""", "tools[0].function.parameters", "patternProperties" },
        { """{"messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"string"}}}]}""", "tools[0].function.parameters", "type 'object'" },
        { """{"messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f"}},{"type":"function","function":{"name":"f"}}]}""", "tools[1].function.name", "used twice" },
        { """{"messages":[{"role":"user","content":"x"},{"role":"tool","content":"42"}]}""", "messages[1].tool_call_id", "tool_call_id" },
        { """{"messages":[{"role":"user","content":"x","tool_calls":[]}]}""", "messages[0].tool_calls", "only assistant" },
        { """{"messages":[{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f"}}]}]}""", "messages[0].tool_calls[0].function.arguments", "arguments" },
    };

    [Stories260KTheory]
    [MemberData(nameof(BadTools))]
    public async Task BadToolField_Is400NamingTheParameter(string json, string param, string message)
    {
        using var client = fixture.CreateModelServerClient(0);

        using var response = await PostAsync(client, ChatCompletionsUri, json);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using JsonDocument body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        JsonElement error = body.RootElement.GetProperty("error");
        Assert.Equal(param, error.GetProperty("param").GetString());
        Assert.Contains(message, error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
    }

    private static void AssertValidCall(string name, string arguments)
    {
        string schema = name switch
        {
            "get_weather" => WeatherSchema,
            "get_time" => TimeSchema,
            _ => throw new Xunit.Sdk.XunitException($"call of an unknown function '{name}'"),
        };
        using JsonDocument document = JsonDocument.Parse(arguments);
        Assert.True(JsonSchema.FromText(schema).Evaluate(document.RootElement).IsValid, $"{name}({arguments}) does not validate");
    }
}
