using System.Globalization;
using LlmAspire.Inference.Constraints;

namespace LlmAspire.Tests.Inference.Constraints;

public sealed class IntegerRangeGrammarTests
{
    public static TheoryData<long?, long?> Ranges => new()
    {
        { 0, 9 }, { 1, 100 }, { 17, 4321 }, { -50, 50 }, { -1234, -17 }, { 0, null }, { null, 0 }, { -3, null }, { 99, 101 }, { 5, 5 }, { 100, 1000 }, { null, -7 },
    };

    [Theory]
    [MemberData(nameof(Ranges))]
    public void Range_MatchesExactlyTheIntegersWithin(long? min, long? max)
    {
        var compiled = new CompiledGrammar(Grammar.FromExpression(IntegerRangeGrammar.Range(min, max)), TokenVocabulary.For(ByteTokenizer.Json));
        long from = (min ?? (max ?? 0) - 3000) - 200, to = (max ?? (min ?? 0) + 3000) + 200;
        for (long n = from; n <= to; n++)
        {
            bool inside = (min is null || n >= min) && (max is null || n <= max);
            Assert.True(inside == compiled.Matches(n.ToString(CultureInfo.InvariantCulture)), $"{n} in [{min}, {max}]: expected {inside}");
        }

        Assert.False(compiled.Matches("-0"));
        Assert.False(compiled.Matches("007"));
        Assert.False(compiled.Matches(""));
    }

    [Fact]
    public void EmptyRange_IsAClearError() =>
        Assert.Contains("No integer lies between", Assert.Throws<GrammarException>(() => IntegerRangeGrammar.Range(5, 4)).Message);
}
