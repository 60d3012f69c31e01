using System.Text;

namespace LlmAspire.Inference.Tokenization.Jinja;

/// <summary>A node of a parsed template; rendering appends its output.</summary>
internal abstract class JinjaStatement(int line)
{
    /// <summary>The 1-based template line the node starts on.</summary>
    public int Line { get; } = line;

    public abstract JinjaFlow Render(StringBuilder output, JinjaScope scope);

    /// <summary>Calls <paramref name="visitor"/> on this node and every node below it.</summary>
    public virtual void Visit(Action<JinjaStatement> visitor) => visitor(this);

    protected static JinjaFlow RenderBlock(IReadOnlyList<JinjaStatement> block, StringBuilder output, JinjaScope scope)
    {
        for (int i = 0; i < block.Count; i++)
        {
            JinjaFlow flow = block[i].Render(output, scope);
            if (flow != JinjaFlow.Normal)
            {
                return flow;
            }
        }

        return JinjaFlow.Normal;
    }

    protected static void VisitBlock(IReadOnlyList<JinjaStatement> block, Action<JinjaStatement> visitor)
    {
        foreach (JinjaStatement statement in block)
        {
            statement.Visit(visitor);
        }
    }
}

/// <summary>Template text outside tags.</summary>
internal sealed class JinjaTextStatement(string text, int line) : JinjaStatement(line)
{
    public override JinjaFlow Render(StringBuilder output, JinjaScope scope)
    {
        output.Append(text);
        return JinjaFlow.Normal;
    }
}

/// <summary><c>{% if %}…{% elif %}…{% else %}…{% endif %}</c> (an elif is an if in the alternate).</summary>
internal sealed class JinjaIf(JinjaExpression test, IReadOnlyList<JinjaStatement> body, IReadOnlyList<JinjaStatement> alternate, int line) : JinjaStatement(line)
{
    public override JinjaFlow Render(StringBuilder output, JinjaScope scope) =>
        RenderBlock(test.Evaluate(scope).IsTruthy ? body : alternate, output, scope);

    public override void Visit(Action<JinjaStatement> visitor)
    {
        visitor(this);
        test.Visit(visitor);
        VisitBlock(body, visitor);
        VisitBlock(alternate, visitor);
    }
}

/// <summary><c>{% for x in items [if cond] %}…{% else %}…{% endfor %}</c>, with <c>loop</c> and tuple unpacking.</summary>
internal sealed class JinjaFor : JinjaStatement
{
    private readonly IReadOnlyList<string> _targets;
    private readonly bool _unpack;
    private readonly JinjaExpression _iterable;
    private readonly JinjaExpression? _filter;
    private readonly IReadOnlyList<JinjaStatement> _body;
    private readonly IReadOnlyList<JinjaStatement> _otherwise;
    private readonly bool _usesLoop;

    public JinjaFor(IReadOnlyList<string> targets, bool unpack, JinjaExpression iterable, JinjaExpression? filter, IReadOnlyList<JinjaStatement> body, IReadOnlyList<JinjaStatement> otherwise, int line)
        : base(line)
    {
        _targets = targets;
        _unpack = unpack;
        _iterable = iterable;
        _filter = filter;
        _body = body;
        _otherwise = otherwise;
        bool usesLoop = false;
        void Find(JinjaStatement node) => usesLoop |= node is JinjaIdentifier { Name: "loop" };
        VisitBlock(body, Find);
        VisitBlock(otherwise, Find);
        _usesLoop = usesLoop;
    }

    public override JinjaFlow Render(StringBuilder output, JinjaScope scope)
    {
        var loopScope = new JinjaScope(scope);
        JinjaValue iterable = _iterable.Evaluate(loopScope);
        List<JinjaValue> candidates = iterable.Kind switch
        {
            JinjaValueKind.Array => iterable.Items,
            JinjaValueKind.Object => [.. iterable.Entries.Keys.Select(JinjaValue.From)],
            _ => throw new JinjaRenderException($"Expected iterable or object type in for loop: got {iterable.Kind}"),
        };

        List<JinjaValue> items;
        if (!_unpack && _filter is null)
        {
            items = [.. candidates];
        }
        else
        {
            items = new List<JinjaValue>(candidates.Count);
            foreach (JinjaValue candidate in candidates)
            {
                if (_unpack)
                {
                    if (candidate.Kind != JinjaValueKind.Array)
                    {
                        throw new JinjaRenderException($"Cannot unpack non-iterable type: {candidate.Kind}");
                    }

                    if (candidate.Items.Count != _targets.Count)
                    {
                        throw new JinjaRenderException($"Too {(_targets.Count > candidate.Items.Count ? "few" : "many")} items to unpack");
                    }
                }

                if (_filter is not null)
                {
                    var testScope = new JinjaScope(loopScope);
                    Bind(candidate, testScope);
                    if (!_filter.Evaluate(testScope).IsTruthy)
                    {
                        continue;
                    }
                }

                items.Add(candidate);
            }
        }

        bool noIteration = true;
        for (int i = 0; i < items.Count; i++)
        {
            if (_usesLoop)
            {
                loopScope.Set("loop", LoopValue(i, items, candidatesPrevious: i > 0 ? items[i - 1] : null, next: i < items.Count - 1 ? items[i + 1] : null));
            }

            Bind(items[i], loopScope);
            JinjaFlow flow = RenderBlock(_body, output, loopScope);
            if (flow == JinjaFlow.Continue)
            {
                continue;
            }

            if (flow == JinjaFlow.Break)
            {
                break;
            }

            noIteration = false;
        }

        if (noIteration)
        {
            return RenderBlock(_otherwise, output, loopScope);
        }

        return JinjaFlow.Normal;
    }

    public override void Visit(Action<JinjaStatement> visitor)
    {
        visitor(this);
        _iterable.Visit(visitor);
        _filter?.Visit(visitor);
        VisitBlock(_body, visitor);
        VisitBlock(_otherwise, visitor);
    }

    private static JinjaValue LoopValue(int i, List<JinjaValue> items, JinjaValue? candidatesPrevious, JinjaValue? next)
    {
        int length = items.Count;
        return JinjaValue.FromObject(new OrderedDictionary<string, JinjaValue>(StringComparer.Ordinal)
        {
            ["index"] = JinjaValue.FromInteger(i + 1),
            ["index0"] = JinjaValue.FromInteger(i),
            ["revindex"] = JinjaValue.FromInteger(length - i),
            ["revindex0"] = JinjaValue.FromInteger(length - i - 1),
            ["first"] = JinjaValue.From(i == 0),
            ["last"] = JinjaValue.From(i == length - 1),
            ["length"] = JinjaValue.FromInteger(length),
            ["previtem"] = candidatesPrevious ?? JinjaValue.Undefined,
            ["nextitem"] = next ?? JinjaValue.Undefined,
        });
    }

    private void Bind(JinjaValue item, JinjaScope scope)
    {
        if (!_unpack)
        {
            scope.Set(_targets[0], item);
            return;
        }

        for (int j = 0; j < _targets.Count; j++)
        {
            scope.Set(_targets[j], j < item.Items.Count ? item.Items[j] : JinjaValue.Undefined);
        }
    }
}

/// <summary><c>{% set x = v %}</c>, <c>{% set a, b = pair %}</c>, <c>{% set ns.x = v %}</c>, or a block <c>{% set x %}…{% endset %}</c>.</summary>
internal sealed class JinjaSet(JinjaExpression target, JinjaExpression? value, IReadOnlyList<JinjaStatement> body, int line) : JinjaStatement(line)
{
    public override JinjaFlow Render(StringBuilder output, JinjaScope scope)
    {
        JinjaValue rhs;
        if (value is not null)
        {
            rhs = value.Evaluate(scope);
        }
        else
        {
            var text = new StringBuilder();
            RenderBlock(body, text, scope);
            rhs = JinjaValue.From(text.ToString());
        }

        switch (target)
        {
            case JinjaIdentifier identifier:
                scope.Set(identifier.Name, rhs);
                break;
            case JinjaListLiteral tuple:
                if (rhs.Kind != JinjaValueKind.Array)
                {
                    throw new JinjaRenderException($"Cannot unpack non-iterable type in set: {rhs.Kind}");
                }

                if (rhs.Items.Count != tuple.Items.Count)
                {
                    throw new JinjaRenderException($"Too {(tuple.Items.Count > rhs.Items.Count ? "few" : "many")} items to unpack in set");
                }

                for (int i = 0; i < tuple.Items.Count; i++)
                {
                    scope.Set(((JinjaIdentifier)tuple.Items[i]).Name, rhs.Items[i]);
                }

                break;
            case JinjaMember member:
                JinjaValue namespaceValue = member.Target.Evaluate(scope);
                if (namespaceValue.Kind != JinjaValueKind.Namespace)
                {
                    throw new JinjaRenderException("cannot assign attribute on non-namespace object");
                }

                namespaceValue.Entries[member.Name!.String] = rhs;
                break;
        }

        return JinjaFlow.Normal;
    }

    public override void Visit(Action<JinjaStatement> visitor)
    {
        visitor(this);
        target.Visit(visitor);
        value?.Visit(visitor);
        VisitBlock(body, visitor);
    }
}

/// <summary><c>{% break %}</c> or <c>{% continue %}</c>.</summary>
internal sealed class JinjaLoopControl(JinjaFlow flow, int line) : JinjaStatement(line)
{
    public override JinjaFlow Render(StringBuilder output, JinjaScope scope) => flow;
}
