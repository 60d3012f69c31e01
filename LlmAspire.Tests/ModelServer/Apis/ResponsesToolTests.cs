using System.Text;
using System.Text.Json;
using LlmAspire.Tests.AppHost;
using LlmAspire.Tests.Inference;
using static LlmAspire.Tests.ModelServer.Apis.ResponsesHttp;
using static LlmAspire.Tests.ModelServer.ModelServerHttp;

namespace LlmAspire.Tests.ModelServer.Apis;

/// <summary>
/// Function calling through <c>/v1/responses</c> on a real model server (stories260K), which rests on chat's: a
/// required or named <c>tool_choice</c> answers with <c>function_call</c> items (streamed as argument deltas that add
/// up to the item), and <c>function_call</c> / <c>function_call_output</c> input items render as the chat turns with
/// <c>tool_calls</c> and <c>role: tool</c> that they mean.
/// </summary>
[Collection(AspireAppCollection.Name)]
public sealed class ResponsesToolTests(AspireAppFixture fixture)
{
    private static readonly object[] s_tools =
    [
        new
        {
            type = "function",
            name = "get_weather",
            description = "The weather in a city.",
            parameters = new { type = "object", properties = new { city = new { type = "string", maxLength = 12 } }, required = new[] { "city" }, additionalProperties = false },
            strict = true,
        },
    ];

    [Stories260KFact]
    public async Task ToolChoiceRequired_AnswersWithAFunctionCallItem()
    {
        using var client = fixture.CreateModelServerClient(0);

        using var document = await CreateAsync(client, Json(new Dictionary<string, object?>
        {
            ["input"] = "What is the weather in Paris?",
            ["tools"] = s_tools,
            ["tool_choice"] = "required",
            ["parallel_tool_calls"] = false,
            ["temperature"] = 0,
        }));

        var response = document.RootElement;
        Assert.Equal("completed", response.GetProperty("status").GetString());
        Assert.Equal("required", response.GetProperty("tool_choice").GetString());
        Assert.False(response.GetProperty("parallel_tool_calls").GetBoolean());
        Assert.Equal("get_weather", response.GetProperty("tools")[0].GetProperty("name").GetString());
        var call = Assert.Single(response.GetProperty("output").EnumerateArray(), item => item.GetProperty("type").GetString() == "function_call");
        AssertCall(call);
    }

    [Stories260KFact]
    public async Task NamedToolChoice_Streamed_TheArgumentDeltasAddUpToTheCallItem()
    {
        using var client = fixture.CreateModelServerClient(0);

        var events = await StreamEventsAsync(client, Json(new Dictionary<string, object?>
        {
            ["input"] = "What is the weather in Paris?",
            ["tools"] = s_tools,
            ["tool_choice"] = new { type = "function", name = "get_weather" },
            ["parallel_tool_calls"] = false,
            ["temperature"] = 0,
            ["stream"] = true,
        }));

        Assert.Equal("response.completed", events[^1].Type);
        var added = events.Single(e => e.Type == "response.output_item.added" && e.Data.GetProperty("item").GetProperty("type").GetString() == "function_call");
        var itemId = added.Data.GetProperty("item").GetProperty("id").GetString();
        var arguments = new StringBuilder();
        foreach (var delta in events.Where(e => e.Type == "response.function_call_arguments.delta"))
        {
            Assert.Equal(itemId, delta.Data.GetProperty("item_id").GetString());
            arguments.Append(delta.Data.GetProperty("delta").GetString());
        }

        var done = events.Single(e => e.Type == "response.function_call_arguments.done").Data;
        Assert.Equal(arguments.ToString(), done.GetProperty("arguments").GetString());
        var call = Assert.Single(events[^1].Data.GetProperty("response").GetProperty("output").EnumerateArray(), item => item.GetProperty("type").GetString() == "function_call");
        Assert.Equal(itemId, call.GetProperty("id").GetString());
        Assert.Equal(arguments.ToString(), call.GetProperty("arguments").GetString());
        AssertCall(call);
    }

    [Stories260KFact]
    public async Task FunctionCallAndOutputItems_RenderAsTheChatToolTurns()
    {
        using var client = fixture.CreateModelServerClient(0);
        const string Arguments = """{"city":"Paris"}""";
        using var chat = await ChatAsync(client, Json(new Dictionary<string, object?>
        {
            ["messages"] = new object[]
            {
                new { role = "user", content = "What is the weather in Paris?" },
                new { role = "assistant", content = "", tool_calls = new[] { new { id = "call_1", type = "function", function = new { name = "get_weather", arguments = Arguments } } } },
                new { role = "tool", tool_call_id = "call_1", content = "Sunny" },
            },
            ["tools"] = new[] { new { type = "function", function = new { name = "get_weather", parameters = new { type = "object", properties = new { city = new { type = "string" } } } } } },
            ["temperature"] = 0,
            ["max_completion_tokens"] = 20,
        }));

        using var document = await CreateAsync(client, Json(new Dictionary<string, object?>
        {
            ["input"] = new object[]
            {
                new { role = "user", content = "What is the weather in Paris?" },
                new { type = "function_call", call_id = "call_1", name = "get_weather", arguments = Arguments },
                new { type = "function_call_output", call_id = "call_1", output = "Sunny" },
            },
            ["tools"] = new[] { new { type = "function", name = "get_weather", parameters = new { type = "object", properties = new { city = new { type = "string" } } } } },
            ["temperature"] = 0,
            ["max_output_tokens"] = 20,
        }));

        var response = document.RootElement;
        Assert.Equal(chat.RootElement.GetProperty("usage").GetProperty("prompt_tokens").GetInt32(), response.GetProperty("usage").GetProperty("input_tokens").GetInt32());
        Assert.Equal(chat.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString() ?? "", OutputText(response));
    }

    private static void AssertCall(JsonElement call)
    {
        Assert.StartsWith("fc_", call.GetProperty("id").GetString(), StringComparison.Ordinal);
        Assert.Equal("completed", call.GetProperty("status").GetString());
        Assert.Equal("get_weather", call.GetProperty("name").GetString());
        Assert.False(string.IsNullOrEmpty(call.GetProperty("call_id").GetString()));
        using var arguments = JsonDocument.Parse(call.GetProperty("arguments").GetString()!);
        Assert.Equal(JsonValueKind.String, arguments.RootElement.GetProperty("city").ValueKind);
    }
}
