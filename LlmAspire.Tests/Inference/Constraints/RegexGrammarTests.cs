using System.Text;
using System.Text.RegularExpressions;
using LlmAspire.Inference.Constraints;

namespace LlmAspire.Tests.Inference.Constraints;

/// <summary>Regular expressions against .NET's own engine as the oracle: the same texts match.</summary>
public sealed class RegexGrammarTests
{
    public static TheoryData<string> Patterns =>
    [
        "abc", "a|b|cd", "a*b+c?", "(ab){2,3}", "[a-c]{0,4}x", "[^a-c]+", @"\d{3}-\d{4}", @"\w+@\w+\.com", @"(?:yes|no)!?",
        "colou?r", @"[\u00e9\u65e5]+", "(a|ab)(c|bcd)", @"-?(0|[1-9]\d*)(\.\d+)?", "x{3}", "x{2,}", ".{2}", @"[\d\s]+", "^anchored$",
        @"[a\-z]+", @"\.\*", "(?<name>ab)+",
    ];

    [Theory]
    [MemberData(nameof(Patterns))]
    public void Grammar_MatchesExactlyWhatDotNetRegexFullyMatches(string pattern)
    {
        var compiled = new CompiledGrammar(Grammar.FromRegex(pattern), TokenVocabulary.For(ByteTokenizer.Json));
        var oracle = new Regex($"^(?:{Oracle(pattern.TrimStart('^').TrimEnd('$'))})\\z", RegexOptions.CultureInvariant);
        var random = new Random(pattern.Length * 31 + pattern[0]);
        string alphabet = "abcdxyz019-.@!é日 \n_ABC*";
        var samples = new List<string> { "", "abc", "ab", "abab", "ababab", "123-4567", "a@b.com", "yes", "no!", "color", "colour", "-0.5", "xxx", "xx", "xxxx", "anchored", "a-z", ".*", "abcd" };
        for (int i = 0; i < 400; i++)
        {
            int length = random.Next(0, 8);
            var builder = new StringBuilder();
            for (int k = 0; k < length; k++)
            {
                builder.Append(alphabet[random.Next(alphabet.Length)]);
            }

            samples.Add(builder.ToString());
        }

        // Texts the grammar itself produces must match the oracle too.
        for (int i = 0; i < 30; i++)
        {
            (string text, bool ended) = GrammarTestKit.RandomWalk(compiled, ByteTokenizer.Json, random, maxTokens: 12, checkMasks: i < 5);
            if (ended && !text.Any(char.IsSurrogate)) // .NET counts a supplementary character as two
            {
                Assert.True(oracle.IsMatch(text), $"/{pattern}/ produced '{text}', which .NET does not match");
            }
        }

        foreach (string sample in samples)
        {
            Assert.True(oracle.IsMatch(sample) == compiled.Matches(sample), $"/{pattern}/ on '{sample}': .NET {oracle.IsMatch(sample)}, grammar {compiled.Matches(sample)}");
        }
    }

    [Fact]
    public void RandomRegexes_EveryOutputMatchesAndMembershipAgreesWithDotNet()
    {
        var random = new Random(1202);
        int outputs = 0;
        for (int r = 0; r < 150; r++)
        {
            string pattern = RandomPattern(random, depth: 0);
            var compiled = new CompiledGrammar(Grammar.FromRegex(pattern), TokenVocabulary.For(ByteTokenizer.Json));
            var oracle = new Regex($"^(?:{Oracle(pattern)})\\z", RegexOptions.CultureInvariant);
            for (int w = 0; w < 4; w++)
            {
                (string text, bool ended) = GrammarTestKit.RandomWalk(compiled, ByteTokenizer.Json, random, maxTokens: 60, stopChance: 0.5, checkMasks: w == 0 && r % 5 == 0);
                if (ended && !text.Any(char.IsSurrogate)) // .NET counts a supplementary character as two
                {
                    Assert.True(oracle.IsMatch(text), $"/{pattern}/ produced '{text}', which .NET does not match");
                    outputs++;
                }
            }

            for (int i = 0; i < 40; i++)
            {
                var builder = new StringBuilder();
                int length = random.Next(0, 7);
                for (int k = 0; k < length; k++)
                {
                    builder.Append("abcx19 -"[random.Next(8)]);
                }

                string sample = builder.ToString();
                Assert.True(oracle.IsMatch(sample) == compiled.Matches(sample), $"/{pattern}/ on '{sample}': .NET {oracle.IsMatch(sample)}, grammar {compiled.Matches(sample)}");
            }
        }

        Assert.True(outputs > 300, $"only {outputs} walks ended");
    }

    /// <summary>A random pattern over a small alphabet: literals, classes, groups, alternation and every quantifier.</summary>
    private static string RandomPattern(Random random, int depth)
    {
        var builder = new StringBuilder();
        int items = random.Next(1, 4);
        for (int i = 0; i < items; i++)
        {
            string atom = random.Next(depth >= 2 ? 6 : 8) switch
            {
                0 => "a",
                1 => "b",
                2 => "[a-c]",
                3 => "[^ab]",
                4 => @"\d",
                5 => " ",
                6 => "(" + RandomPattern(random, depth + 1) + "|" + RandomPattern(random, depth + 1) + ")",
                _ => "(?:" + RandomPattern(random, depth + 1) + ")",
            };
            string quantifier = random.Next(8) switch
            {
                0 => "?",
                1 => "*",
                2 => "+",
                3 => $"{{{random.Next(0, 3)}}}",
                4 => $"{{{random.Next(0, 2)},{random.Next(2, 4)}}}",
                5 => $"{{{random.Next(1, 3)},}}",
                _ => "",
            };
            builder.Append(atom).Append(quantifier);
        }

        return builder.ToString();
    }

    /// <summary>
    /// The pattern in .NET's dialect with ECMAScript's classes (ours): \d is ASCII digits (.NET's is every Unicode
    /// digit) and \s includes U+FEFF (.NET's does not).
    /// </summary>
    private static string Oracle(string pattern)
    {
        var builder = new StringBuilder();
        bool inClass = false;
        for (int i = 0; i < pattern.Length; i++)
        {
            char c = pattern[i];
            if (c == '\\' && i + 1 < pattern.Length)
            {
                char next = pattern[++i];
                builder.Append(next switch
                {
                    'd' => inClass ? "0-9" : "[0-9]",
                    's' => inClass ? @"\s\uFEFF" : @"[\s\uFEFF]",
                    _ => "\\" + next,
                });
                continue;
            }

            inClass = c == '[' || (inClass && c != ']');
            builder.Append(c);
        }

        return builder.ToString();
    }

    [Theory]
    [InlineData(@"(a)\1", "backreference")]
    [InlineData("a(?=b)", "lookahead")]
    [InlineData("(?<=a)b", "lookbehind")]
    [InlineData(@"\bword", "word boundary")]
    [InlineData("(?i)abc", "inline flag")]
    [InlineData("(ab", "unterminated group")]
    [InlineData("[ab", "unterminated character class")]
    [InlineData("*a", "nothing to repeat")]
    [InlineData("a{3,1}", "maximum is below")]
    [InlineData("ab)", "unmatched ')'")]
    public void UnsupportedOrBroken_IsAClearError(string pattern, string expected)
    {
        var error = Assert.Throws<GrammarException>(() => Grammar.FromRegex(pattern));
        Assert.Contains(expected, error.Message);
        Assert.Contains(pattern, error.Message);
    }
}
