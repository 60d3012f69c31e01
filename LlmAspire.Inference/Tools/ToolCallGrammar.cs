using System.Text;
using System.Text.Json;
using LlmAspire.Inference.Constraints;

namespace LlmAspire.Inference.Tools;

/// <summary>
/// The grammar of an answer that calls functions in a family's syntax: each call names one of the request's
/// functions and its arguments match that function's parameter schema (compiled by <see cref="JsonSchemaGrammar"/>
/// and embedded under its own rule names). <c>required</c> and a named function allow only calls; <c>auto</c> allows
/// text or calls — for the syntaxes that open calls with a marker (<c>&lt;tool_call&gt;</c>, <c>functools[</c>) the text
/// may not contain the marker, so writing it commits the model to a well-formed call, as llama.cpp's lazy grammars
/// do; for the syntaxes whose whole answer is the calls (Llama 3 JSON, Mistral) text may not start like a call.
/// </summary>
public static class ToolCallGrammar
{
    private const string NoParameters = """{"type":"object","properties":{},"additionalProperties":false}""";

    /// <summary>The grammar a <see cref="OutputConstraintKind.ToolCalls"/> constraint's source describes (see <see cref="ToolCallSpec"/>).</summary>
    public static Grammar FromSpec(string spec) => Build(ToolCallSpec.Parse(spec));

    /// <summary>The grammar of <paramref name="spec"/>'s answers.</summary>
    public static Grammar Build(ToolCallSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var rules = new Dictionary<string, GrammarExpression>(StringComparer.Ordinal);
        var calls = new List<GrammarExpression>();
        IEnumerable<ToolCallSpec.Function> functions = spec.Mode == ToolChoiceMode.Function
            ? spec.Functions.Where(f => f.Name == spec.Named)
            : spec.Functions;
        int index = 0;
        foreach (ToolCallSpec.Function function in functions)
        {
            Grammar arguments;
            try
            {
                arguments = JsonSchemaGrammar.FromSchema(function.Parameters ?? NoParameters);
            }
            catch (GrammarException ex)
            {
                throw new GrammarException($"function '{function.Name}': {ex.Message}");
            }

            GrammarExpression argumentsRule = Embed(arguments, $"f{index++}-", rules);
            string name = JsonSerializer.Serialize(function.Name, ToolJsonContext.Default.String);
            calls.Add(spec.Syntax switch
            {
                ToolCallSyntax.Hermes => GrammarExpression.Sequence(GrammarExpression.Literal($"<tool_call>\n{{\"name\": {name}, \"arguments\": "), argumentsRule, GrammarExpression.Literal("}\n</tool_call>")),
                ToolCallSyntax.Llama3Json => GrammarExpression.Sequence(GrammarExpression.Literal($"{{\"name\": {name}, \"parameters\": "), argumentsRule, GrammarExpression.Literal("}")),
                _ => GrammarExpression.Sequence(GrammarExpression.Literal($"{{\"name\": {name}, \"arguments\": "), argumentsRule, GrammarExpression.Literal("}")),
            });
        }

        if (calls.Count == 0)
        {
            throw new GrammarException(spec.Mode == ToolChoiceMode.Function ? $"no function is named '{spec.Named}'." : "there are no functions to call.");
        }

        rules["call"] = GrammarExpression.Choice(calls);
        string separator = spec.Syntax switch
        {
            ToolCallSyntax.Hermes => "\n",
            ToolCallSyntax.Llama3Json => "; ",
            _ => ", ",
        };
        GrammarExpression list = spec.Parallel
            ? GrammarExpression.Sequence(GrammarExpression.Rule("call"), GrammarExpression.Repeat(GrammarExpression.Sequence(GrammarExpression.Literal(separator), GrammarExpression.Rule("call")), 0, null))
            : GrammarExpression.Rule("call");
        rules["calls"] = spec.Syntax switch
        {
            ToolCallSyntax.Mistral => GrammarExpression.Sequence(GrammarExpression.Literal("["), list, GrammarExpression.Literal("]")),
            ToolCallSyntax.Phi4Mini => GrammarExpression.Sequence(GrammarExpression.Literal("functools["), list, GrammarExpression.Literal("]")),
            _ => list,
        };
        GrammarExpression callsRule = GrammarExpression.Rule("calls");
        if (spec.Mode is ToolChoiceMode.Required or ToolChoiceMode.Function)
        {
            return Grammar.FromExpression(callsRule, rules);
        }

        if (spec.Text is { } text)
        {
            // Auto with a response format: the answer is either calls or text in that format.
            GrammarExpression textRule = Embed(text.ToGrammar(), "text-", rules);
            return Grammar.FromExpression(GrammarExpression.Choice(callsRule, textRule), rules);
        }

        GrammarExpression anyText = GrammarExpression.Repeat(CharSetExpression.Any, 0, null);
        return Grammar.FromExpression(spec.Syntax switch
        {
            ToolCallSyntax.Hermes => GrammarExpression.Sequence(Avoiding("<tool_call>"), GrammarExpression.Optional(callsRule)),
            ToolCallSyntax.Phi4Mini => GrammarExpression.Sequence(Avoiding("functools["), GrammarExpression.Optional(callsRule)),
            ToolCallSyntax.Llama3Json => GrammarExpression.Choice(callsRule, GrammarExpression.Optional(GrammarExpression.Sequence(CharSetExpression.Of('{').Complement(), anyText))),
            _ => GrammarExpression.Choice(callsRule, GrammarExpression.Optional(GrammarExpression.Sequence(CharSetExpression.Of('[').Complement(), anyText))),
        }, rules);
    }

    /// <summary>
    /// Any text that does not contain <paramref name="marker"/>, as a regular expression without recursion (so the
    /// automaton's stack stays flat however long the text). The marker's first character must not recur in it.
    /// With m the marker, P the proper prefixes of m after its first character and c_j a character that neither
    /// continues prefix j nor restarts the marker: <c>([^m0] | m0 (P m0)* P_j c_j)* (m0 (P m0)* P)?</c>.
    /// </summary>
    public static GrammarExpression Avoiding(string marker)
    {
        ArgumentException.ThrowIfNullOrEmpty(marker);
        int[] m = [.. marker.EnumerateRunes().Select(r => r.Value)];
        if (m.Skip(1).Contains(m[0]))
        {
            throw new ArgumentException($"The marker's first character recurs in '{marker}'.", nameof(marker));
        }

        GrammarExpression first = CharSetExpression.Of(m[0]);
        GrammarExpression Prefix(int j) => GrammarExpression.Sequence(m[1..j].Select(c => (GrammarExpression)CharSetExpression.Of(c)));
        var prefixes = Enumerable.Range(1, m.Length - 1).Select(Prefix).ToList();
        GrammarExpression anyPrefix = GrammarExpression.Choice(prefixes);
        GrammarExpression restarts = GrammarExpression.Repeat(GrammarExpression.Sequence(anyPrefix, first), 0, null);
        GrammarExpression broken = GrammarExpression.Choice(Enumerable.Range(1, m.Length - 1).Select(j =>
            GrammarExpression.Sequence(prefixes[j - 1], CharSetExpression.FromRanges([(m[j], m[j]), (m[0], m[0])]).Complement())));
        GrammarExpression chunk = GrammarExpression.Choice(CharSetExpression.Of(m[0]).Complement(), GrammarExpression.Sequence(first, restarts, broken));
        return GrammarExpression.Sequence(
            GrammarExpression.Repeat(chunk, 0, null),
            GrammarExpression.Optional(GrammarExpression.Sequence(first, restarts, anyPrefix)));
    }

    /// <summary>Adds <paramref name="grammar"/>'s rules to <paramref name="rules"/> under <paramref name="prefix"/>; returns a reference to its root.</summary>
    private static GrammarExpression Embed(Grammar grammar, string prefix, Dictionary<string, GrammarExpression> rules)
    {
        foreach ((string name, GrammarExpression body) in grammar.Rules)
        {
            rules[prefix + name] = Rename(body, prefix);
        }

        return GrammarExpression.Rule(prefix + grammar.Root);
    }

    private static GrammarExpression Rename(GrammarExpression expression, string prefix) => expression switch
    {
        RuleReference r => new RuleReference(prefix + r.Name),
        SequenceExpression s => new SequenceExpression([.. s.Items.Select(i => Rename(i, prefix))]),
        ChoiceExpression c => new ChoiceExpression([.. c.Alternatives.Select(a => Rename(a, prefix))]),
        RepeatExpression r => new RepeatExpression(Rename(r.Item, prefix), r.Min, r.Max),
        _ => expression,
    };
}
