using System.Text;

namespace LlmAspire.Inference.Constraints;

/// <summary>
/// One piece of a grammar, over Unicode code points: what the GBNF, regular-expression and JSON Schema front ends
/// produce and <see cref="Grammar"/> compiles to a byte-level pushdown automaton.
/// </summary>
public abstract record GrammarExpression
{
    /// <summary>The empty string.</summary>
    public static GrammarExpression Empty { get; } = new SequenceExpression([]);

    /// <summary>Exactly <paramref name="text"/>.</summary>
    public static GrammarExpression Literal(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var items = new List<GrammarExpression>();
        foreach (Rune rune in text.EnumerateRunes())
        {
            items.Add(CharSetExpression.Of(rune.Value));
        }

        return items.Count == 1 ? items[0] : new SequenceExpression(items);
    }

    /// <summary>The items one after another.</summary>
    public static GrammarExpression Sequence(params IEnumerable<GrammarExpression> items)
    {
        var flat = new List<GrammarExpression>();
        foreach (GrammarExpression item in items)
        {
            if (item is SequenceExpression s)
            {
                flat.AddRange(s.Items);
            }
            else
            {
                flat.Add(item);
            }
        }

        return flat.Count == 1 ? flat[0] : new SequenceExpression(flat);
    }

    /// <summary>Any one of the alternatives.</summary>
    public static GrammarExpression Choice(params IEnumerable<GrammarExpression> alternatives)
    {
        List<GrammarExpression> list = [.. alternatives];
        if (list.Count == 0)
        {
            throw new ArgumentException("A choice needs at least one alternative.", nameof(alternatives));
        }

        return list.Count == 1 ? list[0] : new ChoiceExpression(list);
    }

    /// <summary><paramref name="item"/> between <paramref name="min"/> and <paramref name="max"/> times (null: unbounded).</summary>
    public static GrammarExpression Repeat(GrammarExpression item, int min, int? max)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(min);
        if (max is { } m && m < min)
        {
            throw new ArgumentOutOfRangeException(nameof(max), $"A repetition's maximum ({m}) is below its minimum ({min}).");
        }

        return min == 1 && max == 1 ? item : new RepeatExpression(item, min, max);
    }

    /// <summary><paramref name="item"/> or nothing.</summary>
    public static GrammarExpression Optional(GrammarExpression item) => Repeat(item, 0, 1);

    /// <summary>A reference to the rule named <paramref name="name"/>.</summary>
    public static GrammarExpression Rule(string name) => new RuleReference(name);
}

/// <summary>The items one after another.</summary>
/// <param name="Items">What to match, in order; empty for the empty string.</param>
public sealed record SequenceExpression(IReadOnlyList<GrammarExpression> Items) : GrammarExpression;

/// <summary>Any one of the alternatives.</summary>
/// <param name="Alternatives">What may match.</param>
public sealed record ChoiceExpression(IReadOnlyList<GrammarExpression> Alternatives) : GrammarExpression;

/// <summary>An item repeated.</summary>
/// <param name="Item">What repeats.</param>
/// <param name="Min">Fewest repetitions.</param>
/// <param name="Max">Most repetitions; null when unbounded.</param>
public sealed record RepeatExpression(GrammarExpression Item, int Min, int? Max) : GrammarExpression;

/// <summary>A reference to a named rule of the grammar.</summary>
/// <param name="Name">The rule's name.</param>
public sealed record RuleReference(string Name) : GrammarExpression;
