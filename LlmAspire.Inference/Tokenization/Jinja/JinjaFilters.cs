using System.Text;

namespace LlmAspire.Inference.Tokenization.Jinja;

/// <summary>
/// The filters and tests, dispatched on the operand's kind as the oracle does (so <c>x | length</c> on a number is
/// an error, <c>| string</c> on a list is its JSON). Their names are checked when a template loads.
/// </summary>
internal static class JinjaFilters
{
    /// <summary>Every filter name a template may use.</summary>
    public static readonly HashSet<string> Names = new(StringComparer.Ordinal)
    {
        "safe", "tojson", "list", "first", "last", "length", "reverse", "sort", "join", "string", "unique", "upper", "lower",
        "title", "capitalize", "trim", "indent", "int", "float", "abs", "items", "bool", "default", "selectattr", "rejectattr",
        "map", "replace", "dictsort", "keys", "values", "get", "select", "reject",
    };

    /// <summary>Every test name a template may use after <c>is</c>.</summary>
    public static readonly HashSet<string> TestNames = new(StringComparer.Ordinal)
    {
        "boolean", "callable", "odd", "even", "false", "true", "none", "string", "number", "integer", "iterable", "mapping",
        "sequence", "lower", "upper", "defined", "undefined", "equalto", "eq",
    };

    public static JinjaValue Apply(JinjaValue operand, string name, IReadOnlyList<JinjaArgument>? arguments, JinjaScope scope)
    {
        if (arguments is null)
        {
            return ApplyPlain(operand, name);
        }

        (List<JinjaValue> positional, Dictionary<string, JinjaValue>? keywords) = JinjaCall.EvaluateArguments(arguments, scope);
        JinjaValue Argument(int index, string keyword, JinjaValue fallback) =>
            index < positional.Count ? positional[index] : keywords?.GetValueOrDefault(keyword) ?? fallback;

        switch (name)
        {
            case "tojson":
                JinjaValue indent = keywords?.GetValueOrDefault("indent") ?? JinjaValue.Null;
                JinjaValue ensureAscii = keywords?.GetValueOrDefault("ensure_ascii") ?? JinjaValue.False;
                JinjaValue sortKeys = keywords?.GetValueOrDefault("sort_keys") ?? JinjaValue.False;
                JinjaValue separators = keywords?.GetValueOrDefault("separators") ?? JinjaValue.Null;
                if (indent.Kind is not (JinjaValueKind.Integer or JinjaValueKind.Null) || ensureAscii.Kind != JinjaValueKind.Boolean || sortKeys.Kind != JinjaValueKind.Boolean)
                {
                    throw new JinjaRenderException("tojson: indent must be a number, ensure_ascii and sort_keys booleans");
                }

                string? itemSeparator = null;
                string? keySeparator = null;
                if (separators.Kind == JinjaValueKind.Array)
                {
                    if (separators.Items.Count != 2 || separators.Items[0].Kind != JinjaValueKind.String || separators.Items[1].Kind != JinjaValueKind.String)
                    {
                        throw new JinjaRenderException("separators must be a tuple of two strings");
                    }

                    itemSeparator = separators.Items[0].String;
                    keySeparator = separators.Items[1].String;
                }
                else if (separators.Kind != JinjaValueKind.Null)
                {
                    throw new JinjaRenderException("If set, separators must be a tuple of two strings");
                }

                int? width = indent.Kind == JinjaValueKind.Integer ? (int)indent.Number : null;
                return JinjaValue.From(JinjaJson.Serialize(operand, new JinjaJsonOptions(width, ensureAscii.IsTruthy, itemSeparator, keySeparator, sortKeys.IsTruthy)));
            case "join":
                JinjaValue separator = Argument(0, "separator", JinjaValue.EmptyString);
                IEnumerable<string> parts = operand.Kind switch
                {
                    JinjaValueKind.String => JinjaMethods.CodePoints(operand.String),
                    JinjaValueKind.Array => operand.Items.Select(JoinText),
                    _ => throw CannotApply(name, operand),
                };
                if (separator.Kind != JinjaValueKind.String)
                {
                    throw new JinjaRenderException("separator must be a string");
                }

                return JinjaValue.From(string.Join(separator.String, parts));
            case "int":
            case "float":
                JinjaValue fallback = Argument(0, "default", name == "int" ? JinjaValue.FromInteger(0) : JinjaValue.FromFloat(0));
                return operand.Kind switch
                {
                    JinjaValueKind.String => ParseNumber(operand.String, name == "int") is { } parsed ? parsed : fallback,
                    JinjaValueKind.Integer or JinjaValueKind.Float or JinjaValueKind.Boolean => ToNumber(operand, name == "int"),
                    _ => throw CannotApply(name, operand),
                };
            case "default":
                JinjaValue value = positional.Count > 0 ? positional[0] : JinjaValue.EmptyString;
                JinjaValue boolean = Argument(1, "boolean", JinjaValue.False);
                if (boolean.Kind != JinjaValueKind.Boolean)
                {
                    throw new JinjaRenderException("`default` filter flag must be a boolean");
                }

                return operand.Kind == JinjaValueKind.Undefined || (boolean.IsTruthy && !operand.IsTruthy) ? value : operand;
        }

        switch (operand.Kind)
        {
            case JinjaValueKind.Array:
                switch (name)
                {
                    case "sort":
                        JinjaValue reverse = Argument(0, "reverse", JinjaValue.False);
                        JinjaValue caseSensitive = Argument(1, "case_sensitive", JinjaValue.False);
                        JinjaValue attribute = Argument(2, "attribute", JinjaValue.Null);
                        JinjaValue SortKey(JinjaValue item) => attribute.Kind == JinjaValueKind.Null ? item : AttributePath(item, attribute.ToString());
                        Comparison<JinjaValue> compare = (a, b) => JinjaMethods.Compare(SortKey(a), SortKey(b), caseSensitive.IsTruthy);
                        return JinjaValue.FromList(JinjaMethods.SortStable(operand.Items, reverse.IsTruthy ? (a, b) => -compare(a, b) : compare));
                    case "selectattr":
                    case "rejectattr":
                        if (operand.Items.Exists(static item => item.Kind is not (JinjaValueKind.Object or JinjaValueKind.Namespace)))
                        {
                            throw new JinjaRenderException($"`{name}` can only be applied to array of objects");
                        }

                        if (arguments.Any(static argument => argument.Name is not null || argument.Value is not JinjaLiteral { Value.Kind: JinjaValueKind.String }))
                        {
                            throw new JinjaRenderException($"arguments of `{name}` must be strings");
                        }

                        string attributeName = positional[0].String;
                        string? testName = positional.Count > 1 ? positional[1].String : null;
                        JinjaValue expected = positional.Count > 2 ? positional[2] : JinjaValue.Undefined;
                        bool select = name == "selectattr";
                        return JinjaValue.FromList(operand.Items.FindAll(item =>
                        {
                            bool result = item.Entries.TryGetValue(attributeName, out JinjaValue? found)
                                && (testName is null ? found.IsTruthy : Test(testName, found, expected));
                            return result == select;
                        }));
                    case "select":
                    case "reject":
                        string? test = positional.Count > 0 && positional[0].Kind == JinjaValueKind.String ? positional[0].String : null;
                        JinjaValue testArgument = positional.Count > 1 ? positional[1] : JinjaValue.Undefined;
                        bool keep = name == "select";
                        return JinjaValue.FromList(operand.Items.FindAll(item => (test is null ? item.IsTruthy : Test(test, item, testArgument)) == keep));
                    case "map":
                        JinjaValue? mapped = keywords?.GetValueOrDefault("attribute");
                        if (mapped is null)
                        {
                            throw new JinjaRenderException("`map` expressions without `attribute` set are not currently supported.");
                        }

                        if (mapped.Kind != JinjaValueKind.String)
                        {
                            throw new JinjaRenderException("attribute must be a string");
                        }

                        JinjaValue? mapDefault = keywords?.GetValueOrDefault("default");
                        return JinjaValue.FromList(operand.Items.ConvertAll(item =>
                        {
                            if (item.Kind is not (JinjaValueKind.Object or JinjaValueKind.Namespace))
                            {
                                throw new JinjaRenderException("items in map must be an object");
                            }

                            JinjaValue result = AttributePath(item, mapped.String);
                            return result.Kind == JinjaValueKind.Undefined ? mapDefault ?? JinjaValue.Undefined : result;
                        }));
                }

                throw new JinjaRenderException($"Unknown ArrayValue filter: {name}");
            case JinjaValueKind.String:
                switch (name)
                {
                    case "indent":
                        JinjaValue width = Argument(0, "width", JinjaValue.FromInteger(4));
                        if (width.Kind is not (JinjaValueKind.Integer or JinjaValueKind.String))
                        {
                            throw new JinjaRenderException("width must be an integer or a string");
                        }

                        string prefix = width.Kind == JinjaValueKind.String ? width.String : new string(' ', Math.Max(0, (int)width.Number));
                        return JinjaValue.From(Indent(operand.String, prefix, Argument(1, "first", JinjaValue.False).IsTruthy, Argument(2, "blank", JinjaValue.False).IsTruthy));
                    case "replace":
                        return JinjaMethods.Replace(operand.String, positional, keywords);
                }

                throw new JinjaRenderException($"Unknown StringValue filter: {name}");
            case JinjaValueKind.Object:
                if (name is "get" or "items" or "keys" or "values" or "dictsort")
                {
                    return JinjaMethods.CallObjectMethod(operand, name, positional, keywords);
                }

                throw new JinjaRenderException($"Unknown ObjectValue filter: {name}");
            default:
                throw CannotApply(name, operand);
        }
    }

    /// <summary>A test: <c>x is name</c>, or the test of <c>selectattr</c>/<c>select</c> with its argument.</summary>
    public static bool Test(string name, JinjaValue operand, JinjaValue argument) => name switch
    {
        "boolean" => operand.Kind == JinjaValueKind.Boolean,
        "callable" => operand.Kind == JinjaValueKind.Function,
        "odd" => Integer(operand, name) % 2 != 0,
        "even" => Integer(operand, name) % 2 == 0,
        "false" => operand.Kind == JinjaValueKind.Boolean && !operand.IsTruthy,
        "true" => operand.Kind == JinjaValueKind.Boolean && operand.IsTruthy,
        "none" => operand.Kind == JinjaValueKind.Null,
        "string" => operand.Kind == JinjaValueKind.String,
        "number" => operand.IsNumber,
        "integer" => operand.Kind == JinjaValueKind.Integer,
        "iterable" => (operand.Kind == JinjaValueKind.Array && !operand.IsTuple) || operand.Kind == JinjaValueKind.String,
        "mapping" => operand.Kind == JinjaValueKind.Object,
        "sequence" => operand.Kind is JinjaValueKind.Array or JinjaValueKind.Object or JinjaValueKind.String,
        "lower" => operand.Kind == JinjaValueKind.String && operand.String == operand.String.ToLowerInvariant(),
        "upper" => operand.Kind == JinjaValueKind.String && operand.String == operand.String.ToUpperInvariant(),
        "defined" => operand.Kind != JinjaValueKind.Undefined,
        "undefined" => operand.Kind == JinjaValueKind.Undefined,
        "equalto" or "eq" => JinjaValue.StrictEquals(operand, argument),
        _ => throw new JinjaRenderException($"Unknown test: {name}"),
    };

    private static JinjaValue ApplyPlain(JinjaValue operand, string name)
    {
        if (name == "safe")
        {
            return operand;
        }

        if (name == "tojson")
        {
            return JinjaValue.From(JinjaJson.Serialize(operand, new JinjaJsonOptions()));
        }

        switch (operand.Kind)
        {
            case JinjaValueKind.Array:
                List<JinjaValue> items = operand.Items;
                switch (name)
                {
                    case "list":
                        return operand;
                    case "first":
                    case "last":
                        // The oracle crashes on an empty list (JavaScript's undefined is not a template value).
                        return items.Count > 0 ? (name == "first" ? items[0] : items[^1]) : throw new JinjaRenderException($"{name} of an empty list");
                    case "length":
                        return JinjaValue.FromInteger(items.Count);
                    case "reverse":
                        return JinjaValue.FromList(Enumerable.Reverse(items).ToList());
                    case "sort":
                        return JinjaValue.FromList(JinjaMethods.SortStable(items, static (a, b) => JinjaMethods.Compare(a, b, caseSensitive: false)));
                    case "join":
                        return JinjaValue.From(string.Concat(items.Select(JoinText)));
                    case "string":
                        return JinjaValue.From(JinjaJson.Serialize(operand, new JinjaJsonOptions(), undefinedAsNull: false));
                    case "unique":
                        var unique = new List<JinjaValue>();
                        foreach (JinjaValue item in items)
                        {
                            if (!unique.Exists(seen => JinjaValue.StrictEquals(seen, item)))
                            {
                                unique.Add(item);
                            }
                        }

                        return JinjaValue.FromList(unique);
                    case "select":
                    case "reject":
                        return JinjaValue.FromList(items.FindAll(item => item.IsTruthy == (name == "select")));
                }

                throw new JinjaRenderException($"Unknown ArrayValue filter: {name}");
            case JinjaValueKind.String:
                string text = operand.String;
                return name switch
                {
                    "length" => JinjaValue.FromInteger(text.Length),
                    "upper" => JinjaValue.From(text.ToUpperInvariant()),
                    "lower" => JinjaValue.From(text.ToLowerInvariant()),
                    "title" => JinjaValue.From(JinjaMethods.Title(text)),
                    "capitalize" => JinjaValue.From(JinjaMethods.Capitalize(text)),
                    "trim" => JinjaValue.From(JinjaText.Trim(text)),
                    "indent" => JinjaValue.From(Indent(text, "    ", first: false, blank: false)),
                    "join" or "string" => operand,
                    "int" => ParseNumber(text, integer: true) ?? JinjaValue.FromInteger(0),
                    "float" => ParseNumber(text, integer: false) ?? JinjaValue.FromFloat(0),
                    _ => throw new JinjaRenderException($"Unknown StringValue filter: {name}"),
                };
            case JinjaValueKind.Integer:
            case JinjaValueKind.Float:
                return name switch
                {
                    "abs" => operand.Kind == JinjaValueKind.Integer ? JinjaValue.FromInteger(Math.Abs(operand.Number)) : JinjaValue.FromFloat(Math.Abs(operand.Number)),
                    "int" or "float" => ToNumber(operand, name == "int"),
                    "string" => JinjaValue.From(operand.ToString()),
                    _ => throw new JinjaRenderException($"Unknown NumericValue filter: {name}"),
                };
            case JinjaValueKind.Object:
                switch (name)
                {
                    case "items":
                        return JinjaMethods.Items(operand);
                    case "length":
                        return JinjaValue.FromInteger(operand.Entries.Count);
                }

                if (name is "get" or "keys" or "values" or "dictsort")
                {
                    return JinjaMethods.CallObjectMethod(operand, name, [], null);
                }

                throw new JinjaRenderException($"Unknown ObjectValue filter: {name}");
            case JinjaValueKind.Boolean:
                return name switch
                {
                    "bool" => operand,
                    "int" or "float" => ToNumber(operand, name == "int"),
                    "string" => JinjaValue.From(operand.IsTruthy ? "true" : "false"),
                    _ => throw new JinjaRenderException($"Unknown BooleanValue filter: {name}"),
                };
            default:
                throw CannotApply(name, operand);
        }
    }

    private static JinjaRenderException CannotApply(string name, JinjaValue operand) => new($"Cannot apply filter \"{name}\" to type: {operand.Kind}");

    /// <summary>How <c>join</c> writes an item (JavaScript's <c>Array.prototype.join</c> of the raw values).</summary>
    private static string JoinText(JinjaValue item) => item.IsNothing ? string.Empty : item.ToConcatString();

    private static JinjaValue ToNumber(JinjaValue operand, bool integer) =>
        integer ? JinjaValue.FromInteger(Math.Truncate(operand.Number) + 0) : JinjaValue.FromFloat(operand.Number);

    private static JinjaValue? ParseNumber(string text, bool integer)
    {
        double value = integer ? JinjaMethods.ParseInt(text) : JinjaMethods.ParseFloat(text);
        return double.IsNaN(value) ? null : integer ? JinjaValue.FromInteger(value) : JinjaValue.FromFloat(value);
    }

    private static double Integer(JinjaValue operand, string test) => operand.Kind == JinjaValueKind.Integer
        ? operand.Number
        : throw new JinjaRenderException($"cannot {test} on {operand.Kind}");

    private static string Indent(string text, string prefix, bool first, bool blank)
    {
        string[] lines = text.Split('\n');
        var output = new StringBuilder();
        for (int i = 0; i < lines.Length; i++)
        {
            if (i > 0)
            {
                output.Append('\n');
            }

            if (!((!first && i == 0) || (!blank && lines[i].Length == 0)))
            {
                output.Append(prefix);
            }

            output.Append(lines[i]);
        }

        return output.ToString();
    }

    /// <summary>A dotted attribute path (<c>"function.name"</c>, <c>"items.0"</c>) into mappings and lists.</summary>
    private static JinjaValue AttributePath(JinjaValue item, string path)
    {
        JinjaValue value = item;
        foreach (string part in path.Split('.'))
        {
            if (value.Kind is JinjaValueKind.Object or JinjaValueKind.Namespace)
            {
                value = value.Entries.GetValueOrDefault(part) ?? JinjaValue.Undefined;
            }
            else if (value.Kind == JinjaValueKind.Array && int.TryParse(part, out int index) && index >= 0 && index < value.Items.Count)
            {
                value = value.Items[index];
            }
            else
            {
                return JinjaValue.Undefined;
            }
        }

        return value;
    }
}
