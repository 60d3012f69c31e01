namespace LlmAspire.Inference.Tokenization.Jinja;

/// <summary>The binary operators other than <c>and</c>/<c>or</c>, with the oracle's rules for each pair of kinds.</summary>
internal static class JinjaOperators
{
    public static JinjaValue Apply(string op, JinjaValue left, JinjaValue right)
    {
        switch (op)
        {
            case "==":
                return JinjaValue.From(JinjaValue.LooseEquals(left, right));
            case "!=":
                return JinjaValue.From(!JinjaValue.LooseEquals(left, right));
        }

        if (left.IsNumber && right.IsNumber && op is not ("~" or "**"))
        {
            double a = left.Number;
            double b = right.Number;
            bool isFloat = left.Kind == JinjaValueKind.Float || right.Kind == JinjaValueKind.Float;
            switch (op)
            {
                case "+":
                    return Number(a + b, isFloat);
                case "-":
                    return Number(a - b, isFloat);
                case "*":
                    return Number(a * b, isFloat);
                case "/":
                    return JinjaValue.FromFloat(a / b);
                case "//":
                    return Number(Math.Floor(a / b), isFloat);
                case "%":
                    return Number(a % b, isFloat);
                case "<":
                    return JinjaValue.From(a < b);
                case ">":
                    return JinjaValue.From(a > b);
                case ">=":
                    return JinjaValue.From(a >= b);
                case "<=":
                    return JinjaValue.From(a <= b);
            }
        }
        else if (left.Kind == JinjaValueKind.Undefined || right.Kind == JinjaValueKind.Undefined)
        {
            if (right.Kind == JinjaValueKind.Undefined && op is "in" or "not in")
            {
                return JinjaValue.From(op == "not in");
            }

            if (op == "~" && left.Kind != JinjaValueKind.Null && right.Kind != JinjaValueKind.Null)
            {
                string lhs = left.Kind == JinjaValueKind.Undefined ? string.Empty : left.ToConcatString();
                string rhs = right.Kind == JinjaValueKind.Undefined ? string.Empty : right.ToConcatString();
                return JinjaValue.From(lhs + rhs);
            }

            throw new JinjaRenderException($"Cannot perform operation {op} on undefined values");
        }
        else if (left.Kind == JinjaValueKind.Null || right.Kind == JinjaValueKind.Null)
        {
            throw new JinjaRenderException("Cannot perform operation on null values");
        }
        else if (op == "~")
        {
            return JinjaValue.From(left.ToConcatString() + right.ToConcatString());
        }
        else if (op == "**" && left.IsNumeric && right.IsNumeric)
        {
            double a = left.Number;
            double b = right.Number;
            if (a == 0 && b < 0)
            {
                throw new JinjaRenderException("0.0 cannot be raised to a negative power");
            }

            double result = Math.Pow(a, b);
            if (!double.IsFinite(result))
            {
                throw new JinjaRenderException("Exponentiation result is not a finite real number");
            }

            return Number(result, left.Kind == JinjaValueKind.Float || right.Kind == JinjaValueKind.Float || b < 0);
        }
        else if (left.Kind == JinjaValueKind.Array && right.Kind == JinjaValueKind.Array)
        {
            if (op == "+")
            {
                return JinjaValue.FromList([.. left.Items, .. right.Items]);
            }
        }
        else if (right.Kind == JinjaValueKind.Array && op is "in" or "not in")
        {
            bool member = right.Items.Exists(item => JinjaValue.StrictEquals(item, left));
            return JinjaValue.From(member == (op == "in"));
        }

        if ((left.Kind == JinjaValueKind.String || right.Kind == JinjaValueKind.String) && op == "+")
        {
            return JinjaValue.From(left.ToConcatString() + right.ToConcatString());
        }

        if (left.Kind == JinjaValueKind.String && right.Kind == JinjaValueKind.String && op is "in" or "not in")
        {
            return JinjaValue.From(right.String.Contains(left.String, StringComparison.Ordinal) == (op == "in"));
        }

        if (left.Kind == JinjaValueKind.String && right.Kind == JinjaValueKind.Object && op is "in" or "not in")
        {
            return JinjaValue.From(right.Entries.ContainsKey(left.String) == (op == "in"));
        }

        throw new JinjaRenderException($"Unknown operator \"{op}\" between {left.Kind} and {right.Kind}");
    }

    private static JinjaValue Number(double value, bool isFloat) => isFloat ? JinjaValue.FromFloat(value) : JinjaValue.FromInteger(value);
}
