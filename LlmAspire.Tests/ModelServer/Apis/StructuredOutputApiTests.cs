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
/// Structured output over HTTP on a real model server (stories260K): OpenAI's <c>response_format</c> and vLLM's
/// <c>guided_*</c> / <c>structured_outputs</c> fields, sampled at temperature 1 so that only the grammar keeps the
/// output valid; bad constraints are 400s naming the parameter.
/// </summary>
[Collection(AspireAppCollection.Name)]
public sealed class StructuredOutputApiTests(AspireAppFixture fixture)
{
    private const string Schema = """
        {"type":"object","properties":{"name":{"type":"string","maxLength":10},"age":{"type":"integer","minimum":1,"maximum":99},
         "pets":{"type":"array","items":{"enum":["cat","dog"]},"maxItems":2}},"required":["name","age"],"additionalProperties":false}
        """;

    private static readonly object[] s_messages = [new Dictionary<string, object?> { ["role"] = "user", ["content"] = "Describe a person." }];

    [Stories260KFact]
    public async Task Chat_JsonSchema_EverySampledChoiceValidates()
    {
        using var client = fixture.CreateModelServerClient(0);
        using JsonDocument schema = JsonDocument.Parse(Schema);

        using var completion = await ChatAsync(client, Json(new Dictionary<string, object?>
        {
            ["model"] = AspireAppFixture.ModelId,
            ["messages"] = s_messages,
            ["temperature"] = 1,
            ["seed"] = 7,
            ["n"] = 4,
            ["max_completion_tokens"] = 300,
            ["response_format"] = new { type = "json_schema", json_schema = new { name = "person", strict = true, schema = schema.RootElement } },
        }));

        JsonSchema validator = JsonSchema.FromText(Schema);
        var choices = completion.RootElement.GetProperty("choices").EnumerateArray().ToList();
        Assert.Equal(4, choices.Count);
        foreach (JsonElement choice in choices)
        {
            Assert.Equal("stop", choice.GetProperty("finish_reason").GetString());
            string content = choice.GetProperty("message").GetProperty("content").GetString()!;
            using JsonDocument output = JsonDocument.Parse(content);
            Assert.True(validator.Evaluate(output.RootElement).IsValid, content);
        }
    }

    [Stories260KFact]
    public async Task Chat_JsonObject_Streamed_TheDeltasJoinIntoAnObject()
    {
        using var client = fixture.CreateModelServerClient(0);

        IReadOnlyList<string> events = await StreamAsync(client, ChatCompletionsUri, Json(new Dictionary<string, object?>
        {
            ["model"] = AspireAppFixture.ModelId,
            ["messages"] = s_messages,
            ["temperature"] = 0,
            ["max_completion_tokens"] = 200,
            ["stream"] = true,
            ["response_format"] = new { type = "json_object" },
        }));

        var text = new StringBuilder();
        string? finish = null;
        foreach (string data in events.Where(e => e != "[DONE]"))
        {
            using JsonDocument chunk = JsonDocument.Parse(data);
            foreach (JsonElement choice in chunk.RootElement.GetProperty("choices").EnumerateArray())
            {
                if (choice.GetProperty("delta").TryGetProperty("content", out JsonElement content) && content.ValueKind == JsonValueKind.String)
                {
                    text.Append(content.GetString());
                }

                finish ??= choice.GetProperty("finish_reason").GetString();
            }
        }

        // Greedy on a tiny model may run out of budget inside the object; when it stops, the object is whole.
        if (finish == "stop")
        {
            using JsonDocument output = JsonDocument.Parse(text.ToString());
            Assert.Equal(JsonValueKind.Object, output.RootElement.ValueKind);
        }
        else
        {
            Assert.Equal("length", finish);
            Assert.StartsWith("{", text.ToString().TrimStart(), StringComparison.Ordinal);
        }
    }

    [Stories260KFact]
    public async Task Completions_GuidedChoiceRegexAndStructuredOutputs_Match()
    {
        using var client = fixture.CreateModelServerClient(0);

        async Task<string> Complete(string field, object value)
        {
            using var completion = await CompleteAsync(client, Json(new Dictionary<string, object?>
            {
                ["model"] = AspireAppFixture.ModelId,
                ["prompt"] = "Once upon a time",
                ["temperature"] = 1,
                ["seed"] = 3,
                ["max_tokens"] = 200, // bounded: at most 12 whitespace characters between JSON tokens
                [field] = value,
            }));
            JsonElement choice = completion.RootElement.GetProperty("choices")[0];
            Assert.Equal("stop", choice.GetProperty("finish_reason").GetString());
            return choice.GetProperty("text").GetString()!;
        }

        Assert.Contains(await Complete("guided_choice", new[] { "a dragon", "a princess", "a frog" }), new[] { "a dragon", "a princess", "a frog" });
        Assert.Matches(@"^[A-Z][a-z]{2,5} \d{1,2}$", await Complete("guided_regex", @"[A-Z][a-z]{2,5} \d{1,2}"));
        Assert.Contains(await Complete("structured_outputs", new { choice = new[] { "yes", "no" } }), new[] { "yes", "no" });
        string json = await Complete("guided_json", """{"type":"object","properties":{"ok":{"type":"boolean"}},"required":["ok"]}""");
        using JsonDocument parsed = JsonDocument.Parse(json);
        Assert.Equal(JsonValueKind.Object, parsed.RootElement.ValueKind);
        Assert.True(parsed.RootElement.GetProperty("ok").ValueKind is JsonValueKind.True or JsonValueKind.False);
        Assert.Matches("^(yes|no)$", await Complete("guided_grammar", "root ::= \"yes\" | \"no\""));
    }

    public static TheoryData<string, string, string> BadConstraints => new()
    {
        { """{"prompt":"x","guided_regex":"(a)\\1"}""", "guided_regex", "backreference" },
        { """{"prompt":"x","guided_regex":5}""", "guided_regex", "expected a string" },
        { """{"prompt":"x","guided_choice":[]}""", "guided_choice", "non-empty array of strings" },
        { """{"prompt":"x","guided_json":{"type":"object","patternProperties":{}}}""", "guided_json", "'patternProperties' is not supported" },
        { """{"prompt":"x","guided_grammar":"root ::= root \"a\""}""", "guided_grammar", "left-recursive" },
        { """{"prompt":"x","guided_regex":"a","guided_choice":["a"]}""", "guided_choice", "Only one structured-output constraint" },
        { """{"prompt":"x","structured_outputs":{"xml":"<a/>"}}""", "structured_outputs.xml", "supported are" },
    };

    [Stories260KTheory]
    [MemberData(nameof(BadConstraints))]
    public async Task BadConstraint_Is400NamingTheParameter(string json, string param, string message)
    {
        using var client = fixture.CreateModelServerClient(0);

        using var response = await PostAsync(client, CompletionsUri, json);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using JsonDocument body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        JsonElement error = body.RootElement.GetProperty("error");
        Assert.Equal(param, error.GetProperty("param").GetString());
        Assert.Contains(message, error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
    }
}
