namespace LlmAspire.Inference.Constraints;

/// <summary>
/// A context-free grammar over Unicode text: named rules whose bodies are <see cref="GrammarExpression"/>s, one of
/// them the root. Every constraint a request can carry (a JSON Schema, any JSON, a regular expression, a choice among
/// strings, a GBNF grammar) becomes one, and <see cref="CompiledGrammar"/> turns it into token masks.
/// Left recursion is refused; everything else context-free is accepted.
/// </summary>
public sealed class Grammar
{
    /// <summary>The name of the root rule in GBNF and in grammars built from one expression.</summary>
    public const string RootRule = "root";

    /// <summary>Creates a grammar; every rule referenced must exist.</summary>
    public Grammar(IReadOnlyDictionary<string, GrammarExpression> rules, string root = RootRule)
    {
        ArgumentNullException.ThrowIfNull(rules);
        if (!rules.ContainsKey(root))
        {
            throw new GrammarException($"The grammar has no rule '{root}' to start from.");
        }

        foreach ((string name, GrammarExpression body) in rules)
        {
            foreach (string reference in References(body))
            {
                if (!rules.ContainsKey(reference))
                {
                    throw new GrammarException($"Rule '{name}' refers to '{reference}', which the grammar does not define.");
                }
            }
        }

        Rules = rules;
        Root = root;
    }

    /// <summary>The rules by name.</summary>
    public IReadOnlyDictionary<string, GrammarExpression> Rules { get; }

    /// <summary>The rule the whole output must match.</summary>
    public string Root { get; }

    /// <summary>A grammar whose root is <paramref name="root"/>, with helper rules <paramref name="rules"/>.</summary>
    public static Grammar FromExpression(GrammarExpression root, IReadOnlyDictionary<string, GrammarExpression>? rules = null)
    {
        var all = new Dictionary<string, GrammarExpression>(rules ?? new Dictionary<string, GrammarExpression>()) { [RootRule] = root };
        return new Grammar(all);
    }

    /// <summary>Parses a GBNF grammar (llama.cpp's format; the rule <c>root</c> starts).</summary>
    public static Grammar ParseGbnf(string text) => GbnfParser.Parse(text);

    /// <summary>The whole output matches the regular expression <paramref name="pattern"/>.</summary>
    public static Grammar FromRegex(string pattern) => FromExpression(RegexParser.Parse(pattern));

    /// <summary>The whole output is exactly one of <paramref name="choices"/>.</summary>
    public static Grammar FromChoices(IEnumerable<string> choices)
    {
        List<string> list = [.. choices];
        if (list.Count == 0)
        {
            throw new GrammarException("A choice needs at least one string.");
        }

        return FromExpression(GrammarExpression.Choice(list.Distinct(StringComparer.Ordinal).Select(GrammarExpression.Literal)));
    }

    /// <summary>Names of the rules <paramref name="expression"/> refers to.</summary>
    internal static IEnumerable<string> References(GrammarExpression expression) => expression switch
    {
        RuleReference r => [r.Name],
        SequenceExpression s => s.Items.SelectMany(References),
        ChoiceExpression c => c.Alternatives.SelectMany(References),
        RepeatExpression r => References(r.Item),
        _ => [],
    };
}
