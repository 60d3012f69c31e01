extern alias JsonEverything;

using System.Text.Json;
using JsonEverything::Json.Schema;
using LlmAspire.Inference.Constraints;
using LlmAspire.Inference.Tools;
using LlmAspire.Tests.Inference.Constraints;

namespace LlmAspire.Tests.Inference.Tools;

/// <summary>
/// The grammar of answers with tools, driven like the engine drives it (random allowed tokens, masks checked against
/// brute force): every answer it lets through parses into calls of the request's functions whose arguments validate
/// against each function's schema (JsonSchema.Net as the independent validator), in each family's syntax.
/// </summary>
public sealed class ToolCallGrammarTests
{
    private const string WeatherSchema = """
        {"type":"object","properties":{"city":{"type":"string","maxLength":12},"unit":{"enum":["c","f"]}},"required":["city","unit"],"additionalProperties":false}
        """;

    private const string AddSchema = """
        {"type":"object","properties":{"a":{"type":"integer","minimum":0,"maximum":99},"b":{"type":"integer","minimum":0,"maximum":99},
         "tags":{"type":"array","items":{"$ref":"#/$defs/tag"},"maxItems":2}},"required":["a","b"],"additionalProperties":false,
         "$defs":{"tag":{"type":"string","enum":["x","y"]}}}
        """;

    private static readonly ToolCallSpec.Function[] s_functions =
    [
        new("get_weather", WeatherSchema),
        new("add", AddSchema),
        new("ping", null),
    ];

    public static TheoryData<ToolCallSyntax, bool> Syntaxes()
    {
        var data = new TheoryData<ToolCallSyntax, bool>();
        foreach (ToolCallSyntax syntax in Enum.GetValues<ToolCallSyntax>())
        {
            data.Add(syntax, false);
            data.Add(syntax, true);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Syntaxes))]
    public void Required_EveryAnswerParsesIntoValidCalls(ToolCallSyntax syntax, bool parallel)
    {
        var compiled = Compile(new ToolCallSpec(syntax, s_functions, ToolChoiceMode.Required, null, parallel, null));
        var random = new Random(42 + (int)syntax);
        int answers = 0;
        var counts = new HashSet<int>();
        for (int i = 0; i < 60; i++)
        {
            (string text, bool ended) = GrammarTestKit.RandomWalk(compiled, ByteTokenizer.Json, random, maxTokens: 400, stopChance: 0.5, checkMasks: i < 3);
            if (!ended)
            {
                continue;
            }

            answers++;
            var parser = new ToolCallParser(syntax);
            parser.Push(text);
            parser.Finish();
            Assert.True(parser.ToolCalls.Count > 0, $"no call read from '{text}'");
            Assert.True(string.IsNullOrWhiteSpace(parser.Content), $"content '{parser.Content}' beside the calls of '{text}'");
            counts.Add(parser.ToolCalls.Count);
            if (!parallel)
            {
                Assert.Single(parser.ToolCalls);
            }

            foreach (var call in parser.ToolCalls)
            {
                AssertValid(call.Name, call.Arguments);
            }
        }

        Assert.True(answers >= 20, $"only {answers} walks ended");
        if (parallel)
        {
            Assert.Contains(counts, c => c > 1);
        }
    }

    [Fact]
    public void NamedFunction_OnlyThatFunctionIsCalled()
    {
        var compiled = Compile(new ToolCallSpec(ToolCallSyntax.Hermes, s_functions, ToolChoiceMode.Function, "add", true, null));
        var random = new Random(7);
        for (int i = 0; i < 30; i++)
        {
            (string text, bool ended) = GrammarTestKit.RandomWalk(compiled, ByteTokenizer.Json, random, maxTokens: 400, stopChance: 0.5, checkMasks: false);
            if (ended)
            {
                var parser = new ToolCallParser(ToolCallSyntax.Hermes);
                parser.Push(text);
                parser.Finish();
                Assert.All(parser.ToolCalls, call => Assert.Equal("add", call.Name));
                Assert.NotEmpty(parser.ToolCalls);
            }
        }
    }

    [Theory]
    [InlineData(ToolCallSyntax.Hermes)]
    [InlineData(ToolCallSyntax.Phi4Mini)]
    public void Auto_TextNeverHoldsTheMarkerOutsideAWellFormedCall(ToolCallSyntax syntax)
    {
        var grammar = ToolCallGrammar.Build(new ToolCallSpec(syntax, s_functions, ToolChoiceMode.Auto, null, true, null));
        var compiled = new CompiledGrammar(grammar, TokenVocabulary.For(ByteTokenizer.Json));
        Assert.True(compiled.Matches("Plain text, no calls: <b>tool</b> <tool_cal"));
        Assert.True(compiled.Matches(""));
        string marker = syntax == ToolCallSyntax.Hermes ? "<tool_call>" : "functools[";
        Assert.False(compiled.Matches($"text {marker} not a call"));
        // The marker is one token, as <tool_call> is in Qwen's vocabulary, so random walks reach it.
        var tokenizer = new ByteTokenizer([marker, "\"name\": ", "get_weather", "\"arguments\": ", "Paris"]);
        compiled = new CompiledGrammar(grammar, TokenVocabulary.For(tokenizer));
        var random = new Random(3);
        int withCalls = 0;
        for (int i = 0; i < 120; i++)
        {
            (string text, bool ended) = GrammarTestKit.RandomWalk(compiled, tokenizer, random, maxTokens: 400, stopChance: 0.01, checkMasks: i < 2);
            if (!ended)
            {
                continue;
            }

            var parser = new ToolCallParser(syntax);
            parser.Push(text);
            parser.Finish();
            Assert.DoesNotContain(marker, parser.Content ?? "", StringComparison.Ordinal);
            withCalls += parser.ToolCalls.Count > 0 ? 1 : 0;
            foreach (var call in parser.ToolCalls)
            {
                AssertValid(call.Name, call.Arguments);
            }
        }

        Assert.True(withCalls > 0, "no walk reached a call");
    }

    [Theory]
    [InlineData("<tool_call>")]
    [InlineData("functools[")]
    [InlineData("ab")]
    public void Avoiding_MatchesExactlyTheStringsWithoutTheMarker(string marker)
    {
        var compiled = new CompiledGrammar(Grammar.FromExpression(ToolCallGrammar.Avoiding(marker)), TokenVocabulary.For(ByteTokenizer.Json));
        char[] alphabet = [.. marker.Distinct(), 'x', ' '];
        var random = new Random(marker.Length);
        for (int i = 0; i < 3000; i++)
        {
            // Strings biased toward near misses: pieces of the marker among other characters.
            var text = new System.Text.StringBuilder();
            int pieces = random.Next(0, 6);
            for (int p = 0; p < pieces; p++)
            {
                text.Append(random.Next(3) == 0 ? marker[..random.Next(1, marker.Length + 1)] : alphabet[random.Next(alphabet.Length)].ToString());
            }

            string s = text.ToString();
            Assert.True(compiled.Matches(s) == !s.Contains(marker, StringComparison.Ordinal), $"'{s}'");
        }
    }

    [Fact]
    public void AutoWithResponseFormat_AnswerIsCallsOrSchemaJson()
    {
        var spec = new ToolCallSpec(ToolCallSyntax.Hermes, s_functions, ToolChoiceMode.Auto, null, false, OutputConstraint.JsonSchema("""{"type":"object","properties":{"ok":{"type":"boolean"}},"required":["ok"],"additionalProperties":false}"""));
        var compiled = Compile(spec);
        Assert.True(compiled.Matches("""{"ok": true}"""));
        Assert.False(compiled.Matches("free text"));
        Assert.True(compiled.Matches("<tool_call>\n{\"name\": \"ping\", \"arguments\": {}}\n</tool_call>"));
    }

    [Fact]
    public void UnsupportedParameterKeyword_IsAGrammarErrorNamingTheFunction()
    {
        var spec = new ToolCallSpec(ToolCallSyntax.Hermes, [new("f", """{"type":"object","patternProperties":{"^x":{}}}""")], ToolChoiceMode.Required, null, true, null);
        var error = Assert.Throws<GrammarException>(() => ToolCallGrammar.Build(spec));
        Assert.Contains("function 'f'", error.Message, StringComparison.Ordinal);
        Assert.Contains("patternProperties", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Spec_RoundTripsThroughItsConstraintSource()
    {
        var spec = new ToolCallSpec(ToolCallSyntax.Mistral, s_functions, ToolChoiceMode.Function, "add", false, OutputConstraint.JsonObject());
        var back = ToolCallSpec.Parse(spec.ToConstraint().Source);
        Assert.Equal(spec.Syntax, back.Syntax);
        Assert.Equal(spec.Functions, back.Functions);
        Assert.Equal((spec.Mode, spec.Named, spec.Parallel, spec.Text), (back.Mode, back.Named, back.Parallel, back.Text));
    }

    private static CompiledGrammar Compile(ToolCallSpec spec) => new(ToolCallGrammar.Build(spec), TokenVocabulary.For(ByteTokenizer.Json));

    private static void AssertValid(string name, string arguments)
    {
        var function = s_functions.Single(f => f.Name == name);
        var schema = JsonSchema.FromText(function.Parameters ?? """{"type":"object","properties":{},"additionalProperties":false}""");
        using var document = JsonDocument.Parse(arguments);
        Assert.True(schema.Evaluate(document.RootElement).IsValid, $"{name}({arguments}) does not validate");
        Assert.Equal(JsonValueKind.Object, document.RootElement.ValueKind);
    }
}
