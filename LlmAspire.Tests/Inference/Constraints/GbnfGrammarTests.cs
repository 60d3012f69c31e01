using LlmAspire.Inference.Constraints;

namespace LlmAspire.Tests.Inference.Constraints;

public sealed class GbnfGrammarTests
{
    /// <summary>llama.cpp's grammars/json.gbnf, as shipped (comments and all).</summary>
    private const string LlamaCppJson = """
        root   ::= object
        value  ::= object | array | string | number | ("true" | "false" | "null") ws

        object ::=
          "{" ws (
                    string ":" ws value
            ("," ws string ":" ws value)*
          )? "}" ws

        array  ::=
          "[" ws (
                    value
            ("," ws value)*
          )? "]" ws

        string ::=
          "\"" (
            [^"\\\x7F\x00-\x1F] |
            "\\" (["\\bfnrt] | "u" [0-9a-fA-F]{4}) # escapes
          )* "\"" ws

        number ::= ("-"? ([0-9] | [1-9] [0-9]{0,15})) ("." [0-9]+)? ([eE] [-+]? [0-9] [1-9]{0,15})? ws

        # Optional space: by convention, applied in this grammar after literal chars when allowed
        ws ::= | " " | "\n" [ \t]{0,20}
        """;

    [Theory]
    [InlineData("{\"a\": 1}", true)]
    [InlineData("{\"a\":[1, 2.5, \"x\n\"]}", false)] // a raw line break inside a string
    [InlineData("{\"a\":[1, 2.5, \"x\\n\"], \"b\": {\"c\": null}}", true)]
    [InlineData("{\"a\" 1}", false)]
    [InlineData("[1]", false)] // root is an object
    [InlineData("{}", true)]
    public void LlamaCppJsonGrammar_AcceptsJsonObjects(string text, bool expected)
    {
        var compiled = new CompiledGrammar(Grammar.ParseGbnf(LlamaCppJson), TokenVocabulary.For(ByteTokenizer.Json));
        Assert.Equal(expected, compiled.Matches(text));
    }

    [Fact]
    public void LlamaCppJsonGrammar_EveryMaskEqualsBruteForce()
    {
        var compiled = new CompiledGrammar(Grammar.ParseGbnf(LlamaCppJson), TokenVocabulary.For(ByteTokenizer.Json));
        var random = new Random(7);
        for (int i = 0; i < 20; i++)
        {
            GrammarTestKit.RandomWalk(compiled, ByteTokenizer.Json, random, maxTokens: 30, stopChance: 0.5);
        }
    }

    [Theory]
    [InlineData("root ::= \"a\" root2", "'root2', which the grammar does not define")]
    [InlineData("root ::= root \"a\" | \"b\"", "left-recursive")]
    [InlineData("root ::= x\nx ::= y? x \"a\"\ny ::= \"b\"", "left-recursive")]
    [InlineData("root ::= \"abc", "unterminated string")]
    [InlineData("root ::= [a-", "unterminated character class")]
    [InlineData("root = \"a\"", "'::=' expected")]
    [InlineData("", "empty")]
    [InlineData("start ::= \"a\"", "no rule 'root'")]
    [InlineData("root ::= \"a\"{2,1}", "maximum is below")]
    public void BrokenGrammar_IsAClearError(string text, string expected)
    {
        var error = Assert.Throws<GrammarException>(() => new CompiledGrammar(Grammar.ParseGbnf(text), TokenVocabulary.For(ByteTokenizer.Json)));
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void CharacterClasses_CoverMultiByteCharactersSplitAcrossTokens()
    {
        // "é" is C3 A9; the tokenizer has single-byte tokens, so the walk can split it.
        var compiled = new CompiledGrammar(Grammar.ParseGbnf("root ::= [à-ÿ日]{3}"), TokenVocabulary.For(ByteTokenizer.Json));
        Assert.True(compiled.Matches("éé日"));
        Assert.False(compiled.Matches("éé"));
        Assert.False(compiled.Matches("eée"));
        GrammarMatcher matcher = compiled.CreateMatcher();
        Assert.True(matcher.Accept(2 + 0xC3));
        Assert.False(matcher.Allows(2 + 0x41)); // 'A' cannot continue a two-byte character
        Assert.True(matcher.Accept(2 + 0xA9));
        Assert.False(matcher.IsComplete);
        var random = new Random(3);
        for (int i = 0; i < 10; i++)
        {
            (string text, bool ended) = GrammarTestKit.RandomWalk(compiled, ByteTokenizer.Json, random, maxTokens: 20);
            Assert.True(ended);
            Assert.Equal(3, text.EnumerateRunes().Count());
        }
    }
}
