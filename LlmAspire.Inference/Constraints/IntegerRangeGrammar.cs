using System.Globalization;

namespace LlmAspire.Inference.Constraints;

/// <summary>
/// The decimal integers of a range as a grammar, digit by digit (no leading zeros, no "-0"): what JSON Schema's
/// <c>minimum</c>/<c>maximum</c> on an integer compile to. An open side stops at <see cref="MaxDigits"/> digits, so
/// the output always ends.
/// </summary>
public static class IntegerRangeGrammar
{
    /// <summary>Digits of the longest integer an open range allows (JSON's safe integers have 16).</summary>
    public const int MaxDigits = 16;

    private static readonly CharSetExpression AnyDigit = CharSetExpression.FromRanges([('0', '9')]);

    /// <summary>Integers n with <paramref name="minimum"/> ≤ n ≤ <paramref name="maximum"/> (null: open).</summary>
    public static GrammarExpression Range(long? minimum, long? maximum)
    {
        if (minimum > maximum)
        {
            throw new GrammarException($"No integer lies between the minimum {minimum} and the maximum {maximum}.");
        }

        const long cap = 999_999_999_999_999_999; // 18 digits: negation never overflows
        if (minimum is < -cap || maximum is > cap)
        {
            throw new GrammarException($"Integer bounds beyond ±{cap} are not supported.");
        }

        var parts = new List<GrammarExpression>();
        long negativeTop = Math.Min(maximum ?? -1, -1);
        if (minimum is null || minimum <= negativeTop)
        {
            // -n for n in [-negativeTop, -minimum]
            parts.Add(GrammarExpression.Sequence(GrammarExpression.Literal("-"), Natural(-negativeTop, minimum is null ? null : -minimum.Value)));
        }

        if (maximum is null || maximum >= 0)
        {
            parts.Add(Natural(Math.Max(minimum ?? 0, 0), maximum));
        }

        return GrammarExpression.Choice(parts);
    }

    /// <summary>Integers in [<paramref name="low"/>, <paramref name="high"/>], both ≥ 0; an open top stops at <see cref="MaxDigits"/> digits.</summary>
    private static GrammarExpression Natural(long low, long? high)
    {
        long top = high ?? (long)Math.Pow(10, Math.Max(MaxDigits, Digits(low))) - 1;
        var parts = new List<GrammarExpression>();
        for (int length = Digits(low); length <= Digits(top); length++)
        {
            long first = length == 1 ? 0 : (long)Math.Pow(10, length - 1);
            long last = (long)Math.Pow(10, length) - 1;
            long from = Math.Max(low, first), to = Math.Min(top, last);
            if (from <= to)
            {
                parts.Add(SameLength(from.ToString(CultureInfo.InvariantCulture), to.ToString(CultureInfo.InvariantCulture)));
            }
        }

        return GrammarExpression.Choice(parts);
    }

    private static int Digits(long n) => n.ToString(CultureInfo.InvariantCulture).Length;

    /// <summary>Digit strings of equal length between <paramref name="low"/> and <paramref name="high"/>.</summary>
    private static GrammarExpression SameLength(string low, string high)
    {
        if (low.Length == 0)
        {
            return GrammarExpression.Empty;
        }

        if (low == high)
        {
            return GrammarExpression.Literal(low);
        }

        int rest = low.Length - 1;
        if (low[0] == high[0])
        {
            return GrammarExpression.Sequence(GrammarExpression.Literal(low[..1]), SameLength(low[1..], high[1..]));
        }

        if (low[1..].All(c => c == '0') && high[1..].All(c => c == '9'))
        {
            return GrammarExpression.Sequence(Digit(low[0], high[0]), GrammarExpression.Repeat(AnyDigit, rest, rest));
        }

        var parts = new List<GrammarExpression>
        {
            GrammarExpression.Sequence(GrammarExpression.Literal(low[..1]), SameLength(low[1..], new string('9', rest))),
        };
        if (low[0] + 1 <= high[0] - 1)
        {
            parts.Add(GrammarExpression.Sequence(Digit((char)(low[0] + 1), (char)(high[0] - 1)), GrammarExpression.Repeat(AnyDigit, rest, rest)));
        }

        parts.Add(GrammarExpression.Sequence(GrammarExpression.Literal(high[..1]), SameLength(new string('0', rest), high[1..])));
        return GrammarExpression.Choice(parts);
    }

    private static CharSetExpression Digit(char from, char to) => CharSetExpression.FromRanges([(from, to)]);
}
