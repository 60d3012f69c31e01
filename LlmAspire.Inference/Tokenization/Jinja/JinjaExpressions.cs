using System.Text;

namespace LlmAspire.Inference.Tokenization.Jinja;

/// <summary>An expression; as a statement (<c>{{ expr }}</c>) it prints its value unless none or undefined.</summary>
internal abstract class JinjaExpression(int line) : JinjaStatement(line)
{
    public abstract JinjaValue Evaluate(JinjaScope scope);

    public override JinjaFlow Render(StringBuilder output, JinjaScope scope)
    {
        JinjaValue value = Evaluate(scope);
        if (!value.IsNothing)
        {
            output.Append(value.ToString());
        }

        return JinjaFlow.Normal;
    }
}

/// <summary>A literal number or string.</summary>
internal sealed class JinjaLiteral(JinjaValue value, int line) : JinjaExpression(line)
{
    public JinjaValue Value { get; } = value;

    public override JinjaValue Evaluate(JinjaScope scope) => Value;
}

/// <summary>A variable.</summary>
internal sealed class JinjaIdentifier(string name, int line) : JinjaExpression(line)
{
    public string Name { get; } = name;

    public override JinjaValue Evaluate(JinjaScope scope) => scope.Lookup(Name);

    public override void Visit(Action<JinjaStatement> visitor) => visitor(this);
}

/// <summary><c>[a, b]</c>, or a tuple <c>(a, b)</c>.</summary>
internal sealed class JinjaListLiteral(IReadOnlyList<JinjaExpression> items, bool tuple, int line) : JinjaExpression(line)
{
    public IReadOnlyList<JinjaExpression> Items { get; } = items;

    public bool IsTuple { get; } = tuple;

    public override JinjaValue Evaluate(JinjaScope scope)
    {
        var values = new List<JinjaValue>(Items.Count);
        foreach (JinjaExpression item in Items)
        {
            values.Add(item.Evaluate(scope));
        }

        return IsTuple ? JinjaValue.FromTuple(values) : JinjaValue.FromList(values);
    }

    public override void Visit(Action<JinjaStatement> visitor)
    {
        visitor(this);
        foreach (JinjaExpression item in Items)
        {
            item.Visit(visitor);
        }
    }
}

/// <summary><c>{'key': value}</c>.</summary>
internal sealed class JinjaObjectLiteral(IReadOnlyList<(JinjaExpression Key, JinjaExpression Value)> entries, int line) : JinjaExpression(line)
{
    public override JinjaValue Evaluate(JinjaScope scope)
    {
        var values = new OrderedDictionary<string, JinjaValue>(StringComparer.Ordinal);
        foreach ((JinjaExpression key, JinjaExpression value) in entries)
        {
            JinjaValue name = key.Evaluate(scope);
            if (name.Kind != JinjaValueKind.String)
            {
                throw new JinjaRenderException($"Object keys must be strings: got {name.Kind}");
            }

            values[name.String] = value.Evaluate(scope);
        }

        return JinjaValue.FromObject(values);
    }

    public override void Visit(Action<JinjaStatement> visitor)
    {
        visitor(this);
        foreach ((JinjaExpression key, JinjaExpression value) in entries)
        {
            key.Visit(visitor);
            value.Visit(visitor);
        }
    }
}

/// <summary><c>obj.name</c>, <c>obj[expr]</c>, or a slice <c>obj[a:b:c]</c>.</summary>
internal sealed class JinjaMember(JinjaExpression target, JinjaExpression? property, JinjaValue? name, JinjaExpression?[]? slice, int line) : JinjaExpression(line)
{
    public JinjaExpression Target { get; } = target;

    /// <summary>The attribute name (or integer) of <c>obj.name</c>; null when computed.</summary>
    public JinjaValue? Name { get; } = name;

    public override JinjaValue Evaluate(JinjaScope scope)
    {
        JinjaValue target = Target.Evaluate(scope);
        if (slice is not null)
        {
            return JinjaMethods.Slice(target, Optional(slice[0], scope), Optional(slice[1], scope), Optional(slice[2], scope));
        }

        return JinjaMethods.Member(target, Name ?? property!.Evaluate(scope));
    }

    public override void Visit(Action<JinjaStatement> visitor)
    {
        visitor(this);
        Target.Visit(visitor);
        property?.Visit(visitor);
        foreach (JinjaExpression? part in slice ?? [])
        {
            part?.Visit(visitor);
        }
    }

    private static JinjaValue Optional(JinjaExpression? expression, JinjaScope scope) => expression?.Evaluate(scope) ?? JinjaValue.Undefined;
}

/// <summary>A call argument: positional, or <c>name=value</c>.</summary>
internal readonly record struct JinjaArgument(string? Name, JinjaExpression Value);

/// <summary><c>f(args)</c>; a method of a string or mapping (<c>s.strip()</c>, <c>d.items()</c>) is called without a bound function.</summary>
internal sealed class JinjaCall(JinjaExpression callee, IReadOnlyList<JinjaArgument> arguments, int line) : JinjaExpression(line)
{
    public override JinjaValue Evaluate(JinjaScope scope)
    {
        (List<JinjaValue> positional, Dictionary<string, JinjaValue>? keywords) = EvaluateArguments(arguments, scope);
        if (callee is JinjaMember { Name: { Kind: JinjaValueKind.String } name } member)
        {
            JinjaValue target = member.Target.Evaluate(scope);
            if (JinjaMethods.TryCallMethod(target, name.String, positional, keywords, out JinjaValue result))
            {
                return result;
            }

            return Invoke(JinjaMethods.Member(target, name), positional, keywords);
        }

        return Invoke(callee.Evaluate(scope), positional, keywords);
    }

    public override void Visit(Action<JinjaStatement> visitor)
    {
        visitor(this);
        callee.Visit(visitor);
        foreach (JinjaArgument argument in arguments)
        {
            argument.Value.Visit(visitor);
        }
    }

    public static (List<JinjaValue> Positional, Dictionary<string, JinjaValue>? Keywords) EvaluateArguments(IReadOnlyList<JinjaArgument> arguments, JinjaScope scope)
    {
        var positional = new List<JinjaValue>(arguments.Count);
        Dictionary<string, JinjaValue>? keywords = null;
        foreach (JinjaArgument argument in arguments)
        {
            if (argument.Name is null)
            {
                positional.Add(argument.Value.Evaluate(scope));
            }
        }

        foreach (JinjaArgument argument in arguments)
        {
            if (argument.Name is not null)
            {
                keywords ??= new Dictionary<string, JinjaValue>(StringComparer.Ordinal);
                if (!keywords.TryAdd(argument.Name, argument.Value.Evaluate(scope)))
                {
                    throw new JinjaRenderException($"Got multiple values for keyword argument '{argument.Name}'");
                }
            }
        }

        return (positional, keywords);
    }

    private static JinjaValue Invoke(JinjaValue function, List<JinjaValue> positional, Dictionary<string, JinjaValue>? keywords)
    {
        if (function.Kind != JinjaValueKind.Function)
        {
            throw new JinjaRenderException($"Cannot call something that is not a function: got {function.Kind}");
        }

        return function.Function(positional, keywords);
    }
}

/// <summary><c>value | filter</c> or <c>value | filter(args)</c>; the filter's name is checked when the template loads.</summary>
internal sealed class JinjaFilter(JinjaExpression operand, string name, IReadOnlyList<JinjaArgument>? arguments, int line) : JinjaExpression(line)
{
    public override JinjaValue Evaluate(JinjaScope scope) => JinjaFilters.Apply(operand.Evaluate(scope), name, arguments, scope);

    public override void Visit(Action<JinjaStatement> visitor)
    {
        visitor(this);
        operand.Visit(visitor);
        foreach (JinjaArgument argument in arguments ?? [])
        {
            argument.Value.Visit(visitor);
        }
    }
}

/// <summary><c>value is [not] test</c>.</summary>
internal sealed class JinjaTest(JinjaExpression operand, string name, bool negate, int line) : JinjaExpression(line)
{
    public override JinjaValue Evaluate(JinjaScope scope) => JinjaValue.From(JinjaFilters.Test(name, operand.Evaluate(scope), JinjaValue.Undefined) != negate);

    public override void Visit(Action<JinjaStatement> visitor)
    {
        visitor(this);
        operand.Visit(visitor);
    }
}

/// <summary>A binary operator (<c>and</c>/<c>or</c> short-circuit).</summary>
internal sealed class JinjaBinary(string op, JinjaExpression left, JinjaExpression right, int line) : JinjaExpression(line)
{
    public override JinjaValue Evaluate(JinjaScope scope)
    {
        JinjaValue a = left.Evaluate(scope);
        switch (op)
        {
            case "and":
                return a.IsTruthy ? right.Evaluate(scope) : a;
            case "or":
                return a.IsTruthy ? a : right.Evaluate(scope);
        }

        return JinjaOperators.Apply(op, a, right.Evaluate(scope));
    }

    public override void Visit(Action<JinjaStatement> visitor)
    {
        visitor(this);
        left.Visit(visitor);
        right.Visit(visitor);
    }
}

/// <summary><c>not x</c>, <c>-x</c>, <c>+x</c>.</summary>
internal sealed class JinjaUnary(string op, JinjaExpression operand, int line) : JinjaExpression(line)
{
    public override JinjaValue Evaluate(JinjaScope scope)
    {
        JinjaValue value = operand.Evaluate(scope);
        if (op == "not")
        {
            return JinjaValue.From(!value.IsTruthy);
        }

        if (!value.IsNumeric)
        {
            throw new JinjaRenderException($"Unknown operator \"{op}\" for {value.Kind}");
        }

        double result = op == "-" ? -value.Number : value.Number;
        return value.Kind == JinjaValueKind.Float ? JinjaValue.FromFloat(result) : JinjaValue.FromInteger(result);
    }

    public override void Visit(Action<JinjaStatement> visitor)
    {
        visitor(this);
        operand.Visit(visitor);
    }
}

/// <summary><c>a if condition else b</c>, or without <c>else</c> (undefined when the condition is false).</summary>
internal sealed class JinjaConditional(JinjaExpression condition, JinjaExpression whenTrue, JinjaExpression? whenFalse, int line) : JinjaExpression(line)
{
    public JinjaExpression Condition { get; } = condition;

    public JinjaExpression WhenTrue { get; } = whenTrue;

    public JinjaExpression? WhenFalse { get; } = whenFalse;

    public override JinjaValue Evaluate(JinjaScope scope) => Condition.Evaluate(scope).IsTruthy
        ? WhenTrue.Evaluate(scope)
        : WhenFalse?.Evaluate(scope) ?? JinjaValue.Undefined;

    public override void Visit(Action<JinjaStatement> visitor)
    {
        visitor(this);
        Condition.Visit(visitor);
        WhenTrue.Visit(visitor);
        WhenFalse?.Visit(visitor);
    }
}
