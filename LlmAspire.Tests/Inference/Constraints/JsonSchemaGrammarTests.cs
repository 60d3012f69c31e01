extern alias JsonEverything;

using System.Text.Json;
using System.Text.Json.Nodes;
using JsonEverything::Json.Schema;
using LlmAspire.Inference.Constraints;

namespace LlmAspire.Tests.Inference.Constraints;

/// <summary>
/// JSON Schema grammars: known instances, and a property test — random bounded schemas, random walks through the
/// token masks (every mask checked against brute force), every output parsed and validated by JsonSchema.Net, an
/// implementation that shares no code with ours.
/// </summary>
public sealed class JsonSchemaGrammarTests
{
    private static readonly TokenVocabulary Vocabulary = TokenVocabulary.For(ByteTokenizer.Json);

    private const string Person = """
        {"type":"object","properties":{
            "name":{"type":"string","maxLength":20},
            "age":{"type":"integer","minimum":0,"maximum":150},
            "email":{"type":"string","format":"email"},
            "tags":{"type":"array","items":{"enum":["red","green","blue"]},"maxItems":3},
            "address":{"$ref":"#/$defs/address"}},
         "required":["name","age"],"additionalProperties":false,
         "$defs":{"address":{"type":"object","properties":{"city":{"type":"string"},"zip":{"type":"string","pattern":"^\\d{5}$"}},"required":["city"],"additionalProperties":false}}}
        """;

    [Theory]
    [InlineData("""{"name":"Ann","age":31}""", true)]
    [InlineData("""{ "name": "Ann", "age": 31, "tags": ["red", "blue"] }""", true)]
    [InlineData("""{"name":"Ann","age":31,"email":"ann@example.com","address":{"city":"Oslo","zip":"01234"}}""", true)]
    [InlineData("""{"age":31,"name":"Ann"}""", false)] // properties in schema order
    [InlineData("""{"name":"Ann"}""", false)] // age is required
    [InlineData("""{"name":"Ann","age":151}""", false)]
    [InlineData("""{"name":"Ann","age":-1}""", false)]
    [InlineData("""{"name":"Ann","age":31,"tags":["pink"]}""", false)]
    [InlineData("""{"name":"Ann","age":31,"tags":["red","red","red","red"]}""", false)]
    [InlineData("""{"name":"Ann","age":31,"address":{"zip":"01234"}}""", false)]
    [InlineData("""{"name":"Ann","age":31,"address":{"city":"Oslo","zip":"1234"}}""", false)]
    [InlineData("""{"name":"Ann","age":31,"extra":1}""", false)]
    [InlineData("""{"name":"Ann","age":31} """, false)] // nothing after the value
    [InlineData("""  {"name":"Ann","age":31}""", true)]
    public void Person_AcceptsValidAndRefusesInvalid(string text, bool expected)
    {
        var compiled = new CompiledGrammar(JsonSchemaGrammar.FromSchema(Person), Vocabulary);
        Assert.Equal(expected, compiled.Matches(text));
    }

    [Theory]
    [InlineData("""{"type":"object","not":{}}""", "'not' is not supported", "'#'")]
    [InlineData("""{"type":"object","properties":{"a":{"type":"string","contentEncoding":"base64"}}}""", "'contentEncoding'", "#/properties/a")]
    [InlineData("""{"$ref":"#/$defs/missing"}""", "points at nothing", "")]
    [InlineData("""{"$ref":"https://example.com/s.json"}""", "only references within the schema", "")]
    [InlineData("""{"type":"strin"}""", "'strin' is not a JSON Schema type", "")]
    [InlineData("""{"type":"object","required":["a"]}""", "'required' names 'a'", "")]
    [InlineData("""{"type":"integer","minimum":5,"maximum":4}""", "No integer lies between", "")]
    [InlineData("""{"type":"number","minimum":0}""", "'minimum' on a number", "")]
    [InlineData("""{"type":"string","pattern":"(a)\\1"}""", "backreference", "")]
    [InlineData("""{"type":"array","maxItems":-1}""", "'maxItems' must be a non-negative integer", "")]
    [InlineData("""{"enum":[]}""", "'enum' must be a non-empty array", "")]
    [InlineData("not json", "not valid JSON", "")]
    [InlineData("false", "accepts nothing", "")]
    public void UnsupportedOrBrokenSchema_IsAClearError(string schema, string expected, string where)
    {
        var error = Assert.Throws<GrammarException>(() => JsonSchemaGrammar.FromSchema(schema));
        Assert.Contains(expected, error.Message);
        Assert.Contains(where, error.Message);
    }

    [Fact]
    public void JsonObject_AcceptsAnyObjectOnly()
    {
        var compiled = new CompiledGrammar(JsonSchemaGrammar.AnyJson(), Vocabulary);
        Assert.True(compiled.Matches("""{"a":[1,{"b":null}],"c":"d\u00e9"}"""));
        Assert.True(compiled.Matches("{}"));
        Assert.False(compiled.Matches("[1]"));
        Assert.False(compiled.Matches("{\"a\":1"));
        var random = new Random(11);
        for (int i = 0; i < 20; i++)
        {
            (string text, bool ended) = GrammarTestKit.RandomWalk(compiled, ByteTokenizer.Json, random, maxTokens: 40, stopChance: 0.9, checkMasks: i < 5);
            if (ended)
            {
                Assert.Equal(JsonValueKind.Object, JsonDocument.Parse(text).RootElement.ValueKind);
            }
        }
    }

    [Fact]
    public void RandomBoundedSchemas_EveryOutputEndsParsesAndValidates()
    {
        var random = new Random(20261202);
        int outputs = 0;
        for (int s = 0; s < 120; s++)
        {
            JsonObject schema = RandomSchema(random, depth: 0);
            if (random.Next(4) == 0)
            {
                schema = new JsonObject
                {
                    ["type"] = "object",
                    ["properties"] = new JsonObject { ["x"] = new JsonObject { ["$ref"] = "#/$defs/inner" } },
                    ["required"] = new JsonArray("x"),
                    ["additionalProperties"] = false,
                    ["$defs"] = new JsonObject { ["inner"] = schema },
                };
            }

            string schemaText = schema.ToJsonString();
            var compiled = new CompiledGrammar(JsonSchemaGrammar.FromSchema(schemaText), Vocabulary);
            JsonSchema validator = JsonSchema.FromText(schemaText);
            for (int w = 0; w < 3; w++)
            {
                // No voluntary stop: end-of-sequence only when nothing else is allowed, so the bounds must end it.
                (string text, bool ended) = GrammarTestKit.RandomWalk(compiled, ByteTokenizer.Json, random, maxTokens: 3000, stopChance: 0, checkMasks: w == 0 && s % 4 == 0);
                Assert.True(ended, $"schema {schemaText}: the output did not end: {text}");
                using JsonDocument instance = JsonDocument.Parse(text);
                EvaluationResults result = validator.Evaluate(instance.RootElement);
                Assert.True(result.IsValid, $"schema {schemaText}: output {text} does not validate");
                outputs++;
            }
        }

        Assert.Equal(360, outputs);
    }

    private static JsonObject RandomSchema(Random random, int depth)
    {
        int kind = random.Next(depth >= 2 ? 7 : 10);
        return kind switch
        {
            0 => new JsonObject { ["type"] = "string", ["maxLength"] = random.Next(0, 6) },
            1 => new JsonObject { ["type"] = "string", ["minLength"] = 1, ["maxLength"] = random.Next(1, 4) },
            2 => Pick(random,
                new JsonObject { ["type"] = "string", ["pattern"] = "^[a-c]{1,3}-\\d$" },
                new JsonObject { ["type"] = "string", ["format"] = "date" },
                new JsonObject { ["type"] = "string", ["format"] = "uuid" },
                new JsonObject { ["enum"] = new JsonArray("yes", "no", 3, null, true) },
                new JsonObject { ["const"] = "fixed\n\"value\"" }),
            3 => IntegerSchema(random),
            4 => new JsonObject { ["type"] = "number" },
            5 => new JsonObject { ["type"] = Pick(random, "boolean", "null") },
            6 => new JsonObject { ["type"] = new JsonArray("integer", "null"), ["minimum"] = -5, ["maximum"] = 5 },
            7 => ObjectSchema(random, depth),
            8 => new JsonObject
            {
                ["type"] = "array",
                ["items"] = RandomSchema(random, depth + 1),
                ["minItems"] = random.Next(0, 2),
                ["maxItems"] = random.Next(2, 4),
            },
            _ => new JsonObject { ["anyOf"] = new JsonArray(RandomSchema(random, depth + 1), RandomSchema(random, depth + 1)) },
        };
    }

    private static JsonObject IntegerSchema(Random random)
    {
        int low = random.Next(-1000, 1000);
        return new JsonObject { ["type"] = "integer", ["minimum"] = low, ["maximum"] = low + random.Next(0, 2000) };
    }

    private static JsonObject ObjectSchema(Random random, int depth)
    {
        var properties = new JsonObject();
        var required = new JsonArray();
        int count = random.Next(1, 4);
        for (int i = 0; i < count; i++)
        {
            string name = Pick(random, "name", "age", "id", "items", "é", "a b", "q\"uote") + i;
            properties[name] = RandomSchema(random, depth + 1);
            if (random.Next(2) == 0)
            {
                required.Add(name);
            }
        }

        return new JsonObject { ["type"] = "object", ["properties"] = properties, ["required"] = required, ["additionalProperties"] = false };
    }

    private static T Pick<T>(Random random, params T[] items) => items[random.Next(items.Length)];
}
