extern alias JsonEverything;

using System.Net;
using System.Text;
using System.Text.Json;
using JsonEverything::Json.Schema;
using LlmAspire.Tests.AppHost;
using LlmAspire.Tests.Inference;
using static LlmAspire.Tests.ModelServer.Apis.ResponsesHttp;
using static LlmAspire.Tests.ModelServer.ModelServerHttp;

namespace LlmAspire.Tests.ModelServer.Apis;

/// <summary>
/// <c>POST /v1/responses</c> on a real model server (stories260K): the input forms mean the chat conversation they
/// translate to (same greedy text, same prompt tokens), text formats constrain the output, the budget makes a
/// response incomplete, the stream's named events come in OpenAI's order and add up to the finished response, and
/// bad or stateful requests are 400s naming the Responses parameter.
/// </summary>
[Collection(AspireAppCollection.Name)]
public sealed class ResponsesApiTests(AspireAppFixture fixture)
{
    private const int Budget = 40;

    [Stories260KFact]
    public async Task StringInput_IsOneUserMessage_TheResponseObjectHasTheChatAnswerAndUsage()
    {
        using var client = fixture.CreateModelServerClient(0);
        using var chat = await ChatAsync(client, Json(new Dictionary<string, object?>
        {
            ["messages"] = new[] { new { role = "user", content = StoryPrompt } },
            ["temperature"] = 0,
            ["max_completion_tokens"] = Budget,
        }));

        using var document = await CreateAsync(client, Json(new Dictionary<string, object?>
        {
            ["model"] = AspireAppFixture.ModelId,
            ["input"] = StoryPrompt,
            ["temperature"] = 0,
            ["max_output_tokens"] = Budget,
        }));

        var response = document.RootElement;
        Assert.StartsWith("resp_", response.GetProperty("id").GetString(), StringComparison.Ordinal);
        Assert.Equal("response", response.GetProperty("object").GetString());
        Assert.Equal(AspireAppFixture.ModelId, response.GetProperty("model").GetString());
        Assert.InRange(response.GetProperty("created_at").GetInt64(), DateTimeOffset.UtcNow.AddMinutes(-5).ToUnixTimeSeconds(), DateTimeOffset.UtcNow.AddMinutes(1).ToUnixTimeSeconds());
        Assert.Equal(JsonValueKind.Null, response.GetProperty("error").ValueKind);
        Assert.Equal(JsonValueKind.Null, response.GetProperty("instructions").ValueKind);
        Assert.Equal(Budget, response.GetProperty("max_output_tokens").GetInt32());
        Assert.Equal(0, response.GetProperty("temperature").GetDouble());
        Assert.Equal("text", response.GetProperty("text").GetProperty("format").GetProperty("type").GetString());
        Assert.Equal(JsonValueKind.Array, response.GetProperty("tools").ValueKind);
        Assert.Equal("auto", response.GetProperty("tool_choice").GetString());
        Assert.True(response.GetProperty("parallel_tool_calls").GetBoolean());

        var chatChoice = chat.RootElement.GetProperty("choices")[0];
        var finished = chatChoice.GetProperty("finish_reason").GetString() == "stop";
        Assert.Equal(finished ? "completed" : "incomplete", response.GetProperty("status").GetString());
        var message = Assert.Single(response.GetProperty("output").EnumerateArray());
        Assert.Equal("message", message.GetProperty("type").GetString());
        Assert.StartsWith("msg_", message.GetProperty("id").GetString(), StringComparison.Ordinal);
        Assert.Equal("assistant", message.GetProperty("role").GetString());
        Assert.Equal(finished ? "completed" : "incomplete", message.GetProperty("status").GetString());
        var part = Assert.Single(message.GetProperty("content").EnumerateArray());
        Assert.Equal("output_text", part.GetProperty("type").GetString());
        Assert.Equal(0, part.GetProperty("annotations").GetArrayLength());
        Assert.Equal(chatChoice.GetProperty("message").GetProperty("content").GetString(), part.GetProperty("text").GetString());

        var usage = response.GetProperty("usage");
        var chatUsage = chat.RootElement.GetProperty("usage");
        Assert.Equal(chatUsage.GetProperty("prompt_tokens").GetInt32(), usage.GetProperty("input_tokens").GetInt32());
        Assert.Equal(chatUsage.GetProperty("completion_tokens").GetInt32(), usage.GetProperty("output_tokens").GetInt32());
        Assert.Equal(usage.GetProperty("input_tokens").GetInt32() + usage.GetProperty("output_tokens").GetInt32(), usage.GetProperty("total_tokens").GetInt32());
        Assert.InRange(usage.GetProperty("input_tokens_details").GetProperty("cached_tokens").GetInt32(), 0, usage.GetProperty("input_tokens").GetInt32());
        Assert.Equal(0, usage.GetProperty("output_tokens_details").GetProperty("reasoning_tokens").GetInt32());
    }

    [Stories260KFact]
    public async Task MessageItemsAndInstructions_RenderAsTheChatConversation()
    {
        using var client = fixture.CreateModelServerClient(0);
        using var chat = await ChatAsync(client, Json(new Dictionary<string, object?>
        {
            ["messages"] = new object[]
            {
                new { role = "system", content = "Tell a story." },
                new { role = "user", content = "Hello\nthere" },
                new { role = "assistant", content = "Once upon a time" },
                new { role = "system", content = "Be brief." },
                new { role = "user", content = "More." },
            },
            ["temperature"] = 0,
            ["max_completion_tokens"] = Budget,
        }));

        using var document = await CreateAsync(client, Json(new Dictionary<string, object?>
        {
            ["instructions"] = "Tell a story.",
            ["input"] = new object[]
            {
                new { type = "message", role = "user", content = new object[] { new { type = "input_text", text = "Hello" }, new { type = "input_text", text = "there" } } },
                new { role = "assistant", content = new object[] { new { type = "output_text", text = "Once upon a time" } } },
                new { type = "message", role = "developer", content = "Be brief." },
                new { role = "user", content = "More." },
            },
            ["temperature"] = 0,
            ["max_output_tokens"] = Budget,
            ["store"] = false,
            ["metadata"] = new { purpose = "test" },
            ["truncation"] = "disabled",
        }));

        var response = document.RootElement;
        Assert.Equal("Tell a story.", response.GetProperty("instructions").GetString());
        Assert.Equal("test", response.GetProperty("metadata").GetProperty("purpose").GetString());
        Assert.False(response.GetProperty("store").GetBoolean());
        Assert.Equal(chat.RootElement.GetProperty("usage").GetProperty("prompt_tokens").GetInt32(), response.GetProperty("usage").GetProperty("input_tokens").GetInt32());
        Assert.Equal(chat.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString(), OutputText(response));
    }

    [Stories260KFact]
    public async Task TextFormatJsonSchema_TheSampledOutputValidates()
    {
        const string Schema = """
            {"type":"object","properties":{"name":{"type":"string","maxLength":10},"age":{"type":"integer","minimum":1,"maximum":99}},
             "required":["name","age"],"additionalProperties":false}
            """;
        using var client = fixture.CreateModelServerClient(0);
        using var schema = JsonDocument.Parse(Schema);
        var validator = JsonSchema.FromText(Schema);

        foreach (var seed in new[] { 3, 5 })
        {
            using var document = await CreateAsync(client, Json(new Dictionary<string, object?>
            {
                ["input"] = "Describe a person.",
                ["temperature"] = 1,
                ["seed"] = seed,
                ["max_output_tokens"] = 300,
                ["text"] = new { format = new { type = "json_schema", name = "person", strict = true, schema = schema.RootElement } },
            }));

            var response = document.RootElement;
            Assert.Equal("completed", response.GetProperty("status").GetString());
            var format = response.GetProperty("text").GetProperty("format");
            Assert.Equal("json_schema", format.GetProperty("type").GetString());
            Assert.Equal("person", format.GetProperty("name").GetString());
            var text = OutputText(response);
            using var output = JsonDocument.Parse(text);
            Assert.True(validator.Evaluate(output.RootElement).IsValid, text);
        }
    }

    [Stories260KFact]
    public async Task MaxOutputTokens_Reached_TheResponseIsIncomplete()
    {
        using var client = fixture.CreateModelServerClient(0);

        using var document = await CreateAsync(client, Json(new Dictionary<string, object?>
        {
            ["input"] = StoryPrompt,
            ["temperature"] = 0,
            ["max_output_tokens"] = 5,
            ["logit_bias"] = NoEos,
        }));

        var response = document.RootElement;
        Assert.Equal("incomplete", response.GetProperty("status").GetString());
        Assert.Equal("max_output_tokens", response.GetProperty("incomplete_details").GetProperty("reason").GetString());
        Assert.Equal(5, response.GetProperty("usage").GetProperty("output_tokens").GetInt32());
        Assert.Equal("incomplete", response.GetProperty("output")[0].GetProperty("status").GetString());
        Assert.False(string.IsNullOrEmpty(OutputText(response)));
    }

    [Stories260KFact]
    public async Task Streamed_NamedEventsInOpenAIOrder_TheDeltasAddUpToTheCompletedResponse()
    {
        using var client = fixture.CreateModelServerClient(0);
        var body = new Dictionary<string, object?>
        {
            ["input"] = StoryPrompt,
            ["instructions"] = "Tell a story.",
            ["temperature"] = 0,
            ["max_output_tokens"] = Budget,
        };
        using var whole = await CreateAsync(client, Json(body));
        body["stream"] = true;

        var events = await StreamEventsAsync(client, Json(body));

        Assert.All(events, e => Assert.Equal(e.Name, e.Type));
        Assert.Equal(Enumerable.Range(0, events.Count), events.Select(e => e.Data.GetProperty("sequence_number").GetInt32()));
        var finalType = whole.RootElement.GetProperty("status").GetString() == "completed" ? "response.completed" : "response.incomplete";
        var deltas = events.Count(e => e.Type == "response.output_text.delta");
        Assert.InRange(deltas, 1, Budget);
        string[] expected =
        [
            "response.created", "response.in_progress", "response.output_item.added", "response.content_part.added",
            .. Enumerable.Repeat("response.output_text.delta", deltas),
            "response.output_text.done", "response.content_part.done", "response.output_item.done", finalType,
        ];
        Assert.Equal(expected, events.Select(e => e.Type));

        var created = events[0].Data.GetProperty("response");
        Assert.Equal("in_progress", created.GetProperty("status").GetString());
        Assert.Equal(0, created.GetProperty("output").GetArrayLength());
        Assert.Equal(JsonValueKind.Null, created.GetProperty("usage").ValueKind);

        var added = events[2].Data;
        Assert.Equal(0, added.GetProperty("output_index").GetInt32());
        var itemId = added.GetProperty("item").GetProperty("id").GetString();
        Assert.Equal("in_progress", added.GetProperty("item").GetProperty("status").GetString());
        var text = new StringBuilder();
        foreach (var delta in events.Where(e => e.Type == "response.output_text.delta"))
        {
            Assert.Equal(itemId, delta.Data.GetProperty("item_id").GetString());
            Assert.Equal(0, delta.Data.GetProperty("output_index").GetInt32());
            Assert.Equal(0, delta.Data.GetProperty("content_index").GetInt32());
            text.Append(delta.Data.GetProperty("delta").GetString());
        }

        var done = events.Single(e => e.Type == "response.output_text.done").Data;
        Assert.Equal(text.ToString(), done.GetProperty("text").GetString());
        Assert.Equal(text.ToString(), events.Single(e => e.Type == "response.content_part.done").Data.GetProperty("part").GetProperty("text").GetString());
        var itemDone = events.Single(e => e.Type == "response.output_item.done").Data.GetProperty("item");
        Assert.Equal(itemId, itemDone.GetProperty("id").GetString());

        var final = events[^1].Data.GetProperty("response");
        Assert.Equal(events[0].Data.GetProperty("response").GetProperty("id").GetString(), final.GetProperty("id").GetString());
        Assert.Equal(text.ToString(), OutputText(final));
        Assert.Equal(OutputText(whole.RootElement), text.ToString());
        Assert.Equal("Tell a story.", final.GetProperty("instructions").GetString());
        var usage = final.GetProperty("usage");
        var wholeUsage = whole.RootElement.GetProperty("usage");
        Assert.Equal(wholeUsage.GetProperty("input_tokens").GetInt32(), usage.GetProperty("input_tokens").GetInt32());
        Assert.Equal(wholeUsage.GetProperty("output_tokens").GetInt32(), usage.GetProperty("output_tokens").GetInt32());
        Assert.Equal(usage.GetProperty("input_tokens").GetInt32() + usage.GetProperty("output_tokens").GetInt32(), usage.GetProperty("total_tokens").GetInt32());
    }

    [Stories260KFact]
    public async Task Streamed_BudgetReached_EndsWithResponseIncomplete()
    {
        using var client = fixture.CreateModelServerClient(0);

        var events = await StreamEventsAsync(client, Json(new Dictionary<string, object?>
        {
            ["input"] = StoryPrompt,
            ["temperature"] = 0,
            ["max_output_tokens"] = 6,
            ["logit_bias"] = NoEos,
            ["stream"] = true,
        }));

        var final = events[^1];
        Assert.Equal("response.incomplete", final.Type);
        Assert.Equal("incomplete", final.Data.GetProperty("response").GetProperty("status").GetString());
        Assert.Equal("max_output_tokens", final.Data.GetProperty("response").GetProperty("incomplete_details").GetProperty("reason").GetString());
        Assert.Equal(6, final.Data.GetProperty("response").GetProperty("usage").GetProperty("output_tokens").GetInt32());
        Assert.Equal("incomplete", events.Single(e => e.Type == "response.output_item.done").Data.GetProperty("item").GetProperty("status").GetString());
    }

    public static TheoryData<string, string, string> BadRequests => new()
    {
        { """{"model":"stories260K"}""", "input", "input" },
        { """{"input":[]}""", "input", "empty array" },
        { """{"input":42}""", "input", "expected a string or an array" },
        { """{"input":[{"type":"item_reference","id":"msg_1"}]}""", "input[0].type", "item_reference" },
        { """{"input":[{"role":"user","content":"x"},{"type":"computer_call_output","call_id":"c"}]}""", "input[1].type", "computer_call_output" },
        { """{"input":[{"role":"user","content":[{"type":"input_image","image_url":"https://x/y.png"}]}]}""", "input[0].content[0].type", "input_image" },
        { """{"input":[{"role":"tool","content":"x"}]}""", "input[0].role", "tool" },
        { """{"input":[{"type":"function_call","name":"f","arguments":"{}"}]}""", "input[0].call_id", "call_id" },
        { """{"input":"x","tools":[{"type":"web_search"}]}""", "tools[0].type", "web_search" },
        { """{"input":"x","tools":[{"type":"function","name":"f"},{"type":"file_search","vector_store_ids":[]}]}""", "tools[1].type", "file_search" },
        { """{"input":"x","tool_choice":"sometimes"}""", "tool_choice", "sometimes" },
        { """{"input":"x","previous_response_id":"resp_123"}""", "previous_response_id", "previous_response_id needs the gateway, which stores responses" },
        { """{"input":"x","conversation":"conv_123"}""", "conversation", "gateway" },
        { """{"input":"x","background":true}""", "background", "Background" },
        { """{"input":"x","n":2}""", "n", "one output" },
        { """{"input":"x","max_tokens":5}""", "max_tokens", "max_output_tokens" },
        { """{"input":"x","max_output_tokens":0}""", "max_output_tokens", "max_output_tokens" },
        { """{"input":"x","temperature":3}""", "temperature", "temperature" },
        { """{"input":"x","instructions":["a"]}""", "instructions", "instructions" },
        { """{"input":"x","text":"json"}""", "text", "text" },
        { """{"input":"x","text":{"format":{"type":"xml"}}}""", "text.format.type", "'text.format.type'" },
        { """{"input":"x","text":{"format":{"type":"json_schema","name":"p"}}}""", "text.format.schema", "'text.format.schema'" },
        { """{"input":"x","text":{"format":{"type":"json_schema","schema":{"type":"object"}}}}""", "text.format.name", "'text.format.name'" },
        { """{"input":"x","text":{"format":{"type":"json_schema","name":"p","schema":{"type":"object","patternProperties":{}}}}}""", "text.format.schema", "patternProperties" },
    };

    [Stories260KTheory]
    [MemberData(nameof(BadRequests))]
    public async Task BadRequest_Is400InTheOpenAIShapeNamingTheResponsesParameter(string json, string param, string message)
    {
        using var client = fixture.CreateModelServerClient(0);

        using var response = await PostAsync(client, ResponsesUri, json);

        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, body);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var document = JsonDocument.Parse(body);
        Assert.Equal(["error"], document.RootElement.EnumerateObject().Select(p => p.Name));
        var error = document.RootElement.GetProperty("error");
        Assert.Equal(["message", "type", "param", "code"], error.EnumerateObject().Select(p => p.Name));
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.Equal(param, error.GetProperty("param").GetString());
        Assert.False(string.IsNullOrEmpty(error.GetProperty("code").GetString()));
        var text = error.GetProperty("message").GetString()!;
        Assert.Contains(message, text, StringComparison.Ordinal);
        Assert.DoesNotContain("response_format", text, StringComparison.Ordinal);
        Assert.DoesNotContain("messages", text, StringComparison.Ordinal);
    }

    [Stories260KFact]
    public async Task UnknownModel_Is404()
    {
        using var client = fixture.CreateModelServerClient(0);

        using var response = await PostAsync(client, ResponsesUri, """{"model":"gpt-5","input":"x"}""");

        await AssertErrorAsync(response, HttpStatusCode.NotFound, "invalid_request_error", "model", "model_not_found");
    }
}
