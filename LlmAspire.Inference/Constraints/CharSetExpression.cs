using System.Text;

namespace LlmAspire.Inference.Constraints;

/// <summary>One code point out of a set: sorted, disjoint, non-adjacent inclusive ranges; surrogates never included.</summary>
public sealed record CharSetExpression : GrammarExpression
{
    /// <summary>The largest Unicode code point.</summary>
    public const int MaxCodePoint = 0x10FFFF;

    private CharSetExpression(IReadOnlyList<(int First, int Last)> ranges) => Ranges = ranges;

    /// <summary>The ranges, sorted and merged.</summary>
    public IReadOnlyList<(int First, int Last)> Ranges { get; }

    /// <summary>Every code point (a regular expression's <c>.</c> with the dot-all flag; GBNF's <c>.</c>).</summary>
    public static CharSetExpression Any { get; } = FromRanges([(0, MaxCodePoint)]);

    /// <summary>True when no code point matches.</summary>
    public bool IsEmpty => Ranges.Count == 0;

    /// <summary>Exactly the code point <paramref name="codePoint"/>.</summary>
    public static CharSetExpression Of(int codePoint) => FromRanges([(codePoint, codePoint)]);

    /// <summary>The code points of the ranges (in any order, overlapping or not), surrogates removed.</summary>
    public static CharSetExpression FromRanges(IEnumerable<(int First, int Last)> ranges)
    {
        var sorted = ranges.Select(r =>
            {
                if (r.First < 0 || r.Last > MaxCodePoint || r.First > r.Last)
                {
                    throw new GrammarException($"The character range {Show(r.First)}-{Show(r.Last)} is not a valid range of Unicode code points.");
                }

                return r;
            })
            .OrderBy(r => r.First)
            .ToList();
        var merged = new List<(int First, int Last)>();
        foreach ((int first, int last) in sorted)
        {
            if (merged.Count > 0 && first <= merged[^1].Last + 1)
            {
                merged[^1] = (merged[^1].First, Math.Max(merged[^1].Last, last));
            }
            else
            {
                merged.Add((first, last));
            }
        }

        // UTF-8 cannot encode surrogates: take them out.
        var result = new List<(int First, int Last)>();
        foreach ((int first, int last) in merged)
        {
            if (last < 0xD800 || first > 0xDFFF)
            {
                result.Add((first, last));
                continue;
            }

            if (first < 0xD800)
            {
                result.Add((first, 0xD7FF));
            }

            if (last > 0xDFFF)
            {
                result.Add((0xE000, last));
            }
        }

        return new CharSetExpression(result);
    }

    /// <summary>Every code point not in this set.</summary>
    public CharSetExpression Complement()
    {
        var gaps = new List<(int, int)>();
        int next = 0;
        foreach ((int first, int last) in Ranges)
        {
            if (first > next)
            {
                gaps.Add((next, first - 1));
            }

            next = last + 1;
        }

        if (next <= MaxCodePoint)
        {
            gaps.Add((next, MaxCodePoint));
        }

        return FromRanges(gaps);
    }

    /// <summary>The code points in both sets.</summary>
    public CharSetExpression Intersect(CharSetExpression other) => Union(Complement(), other.Complement()).Complement();

    /// <summary>The code points in either set.</summary>
    public static CharSetExpression Union(params IEnumerable<CharSetExpression> sets) => FromRanges(sets.SelectMany(s => s.Ranges));

    /// <summary>True when <paramref name="codePoint"/> is in the set.</summary>
    public bool Contains(int codePoint)
    {
        foreach ((int first, int last) in Ranges)
        {
            if (codePoint < first)
            {
                return false;
            }

            if (codePoint <= last)
            {
                return true;
            }
        }

        return false;
    }

    /// <inheritdoc />
    public bool Equals(CharSetExpression? other) => other is not null && Ranges.SequenceEqual(other.Ranges);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach ((int first, int last) in Ranges)
        {
            hash.Add(first);
            hash.Add(last);
        }

        return hash.ToHashCode();
    }

    /// <inheritdoc />
    protected override bool PrintMembers(StringBuilder builder)
    {
        builder.Append(string.Join(",", Ranges.Select(r => r.First == r.Last ? Show(r.First) : $"{Show(r.First)}-{Show(r.Last)}")));
        return true;
    }

    private static string Show(int codePoint) => $"U+{codePoint:X4}";
}
