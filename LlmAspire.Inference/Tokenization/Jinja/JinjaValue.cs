using System.Globalization;

namespace LlmAspire.Inference.Tokenization.Jinja;

/// <summary>
/// A value inside a chat template, with the truthiness, equality and printing of <c>@huggingface/jinja</c>
/// (the renderer transformers.js uses, our test oracle): lists and mappings print as JSON, booleans as
/// <c>true</c>/<c>false</c>, none and undefined as nothing.
/// </summary>
public sealed class JinjaValue
{
    private readonly double _number;
    private readonly object? _payload;

    private JinjaValue(JinjaValueKind kind, double number = 0, object? payload = null, bool tuple = false)
    {
        Kind = kind;
        _number = number;
        _payload = payload;
        IsTuple = tuple;
    }

    /// <summary>The undefined value (a missing name, key or index).</summary>
    public static JinjaValue Undefined { get; } = new(JinjaValueKind.Undefined);

    /// <summary><c>none</c>.</summary>
    public static JinjaValue Null { get; } = new(JinjaValueKind.Null);

    /// <summary><c>true</c>.</summary>
    public static JinjaValue True { get; } = new(JinjaValueKind.Boolean, 1);

    /// <summary><c>false</c>.</summary>
    public static JinjaValue False { get; } = new(JinjaValueKind.Boolean, 0);

    /// <summary>The empty string.</summary>
    public static JinjaValue EmptyString { get; } = new(JinjaValueKind.String, 0, string.Empty);

    /// <summary>What kind of value this is.</summary>
    public JinjaValueKind Kind { get; }

    /// <summary>Whether a list value is a tuple (<c>(a, b)</c>), which the oracle neither prints nor serializes, nor counts as iterable.</summary>
    public bool IsTuple { get; }

    /// <summary>Whether this is undefined or none (neither prints).</summary>
    public bool IsNothing => Kind is JinjaValueKind.Undefined or JinjaValueKind.Null;

    /// <summary>The number of an integer, float or boolean (booleans as 0 and 1).</summary>
    public double Number => _number;

    /// <summary>The text of a string value.</summary>
    public string String => (string)_payload!;

    /// <summary>The items of a list value.</summary>
    public List<JinjaValue> Items => (List<JinjaValue>)_payload!;

    /// <summary>The entries of a mapping or namespace value.</summary>
    public OrderedDictionary<string, JinjaValue> Entries => (OrderedDictionary<string, JinjaValue>)_payload!;

    /// <summary>The callable of a function value.</summary>
    public JinjaFunction Function => (JinjaFunction)_payload!;

    /// <summary>Whether a number is an integer or a float.</summary>
    public bool IsNumber => Kind is JinjaValueKind.Integer or JinjaValueKind.Float;

    /// <summary>Whether a number is an integer, a float or a boolean (which arithmetic treats as 0 and 1).</summary>
    public bool IsNumeric => Kind is JinjaValueKind.Integer or JinjaValueKind.Float or JinjaValueKind.Boolean;

    /// <summary>A boolean.</summary>
    public static JinjaValue From(bool value) => value ? True : False;

    /// <summary>A string.</summary>
    public static JinjaValue From(string value) => value.Length == 0 ? EmptyString : new(JinjaValueKind.String, 0, value);

    /// <summary>An integer.</summary>
    public static JinjaValue FromInteger(double value) => new(JinjaValueKind.Integer, value);

    /// <summary>A float.</summary>
    public static JinjaValue FromFloat(double value) => new(JinjaValueKind.Float, value);

    /// <summary>A list over <paramref name="items"/> (not copied).</summary>
    public static JinjaValue FromList(List<JinjaValue> items) => new(JinjaValueKind.Array, 0, items);

    /// <summary>A tuple over <paramref name="items"/> (not copied).</summary>
    public static JinjaValue FromTuple(List<JinjaValue> items) => new(JinjaValueKind.Array, 0, items, tuple: true);

    /// <summary>A mapping over <paramref name="entries"/> (not copied).</summary>
    public static JinjaValue FromObject(OrderedDictionary<string, JinjaValue> entries) => new(JinjaValueKind.Object, 0, entries);

    /// <summary>A namespace over <paramref name="entries"/> (not copied).</summary>
    public static JinjaValue FromNamespace(OrderedDictionary<string, JinjaValue> entries) => new(JinjaValueKind.Namespace, 0, entries);

    /// <summary>A function.</summary>
    public static JinjaValue FromFunction(JinjaFunction function) => new(JinjaValueKind.Function, 0, function);

    /// <summary>Jinja truthiness: empty strings, lists and mappings, zero, none and undefined are false.</summary>
    public bool IsTruthy => Kind switch
    {
        JinjaValueKind.Undefined or JinjaValueKind.Null => false,
        JinjaValueKind.Boolean or JinjaValueKind.Integer or JinjaValueKind.Float => _number != 0 && !double.IsNaN(_number),
        JinjaValueKind.String => String.Length > 0,
        JinjaValueKind.Array => Items.Count > 0,
        JinjaValueKind.Object => Entries.Count > 0,
        _ => true,
    };

    /// <summary>
    /// The value as <c>{{ }}</c> prints it (none and undefined print nothing; the caller skips them, and inside a
    /// list joined by <c>~</c> both read "undefined", as the oracle's none holds JavaScript's undefined).
    /// </summary>
    public override string ToString() => Kind switch
    {
        JinjaValueKind.Undefined or JinjaValueKind.Null => "undefined",
        JinjaValueKind.Boolean => _number != 0 ? "true" : "false",
        JinjaValueKind.Integer => JinjaJson.FormatNumber(_number),
        JinjaValueKind.Float => FormatFloat(_number),
        JinjaValueKind.String => String,
        JinjaValueKind.Function => "[function]",
        _ => JinjaJson.Serialize(this, new JinjaJsonOptions(), undefinedAsNull: false),
    };

    /// <summary>The text that <c>+</c> and <c>~</c> concatenate (JavaScript's <c>String(value)</c>: floats lose their ".0", lists join with commas).</summary>
    public string ToConcatString() => Kind switch
    {
        JinjaValueKind.Integer or JinjaValueKind.Float => JinjaJson.FormatNumber(_number),
        JinjaValueKind.Array => string.Join(',', Items.Select(static item => item.ToString())),
        JinjaValueKind.Object or JinjaValueKind.Namespace => "[object Map]",
        _ => ToString(),
    };

    /// <summary>Jinja's <c>==</c> as the oracle computes it (JavaScript's loose equality of the underlying values).</summary>
    public static bool LooseEquals(JinjaValue left, JinjaValue right)
    {
        if (left.IsNothing || right.IsNothing)
        {
            return left.IsNothing && right.IsNothing;
        }

        bool leftReference = left.Kind is JinjaValueKind.Array or JinjaValueKind.Object or JinjaValueKind.Namespace or JinjaValueKind.Function;
        bool rightReference = right.Kind is JinjaValueKind.Array or JinjaValueKind.Object or JinjaValueKind.Namespace or JinjaValueKind.Function;
        if (leftReference && rightReference)
        {
            return ReferenceEquals(left._payload, right._payload);
        }

        if (leftReference || rightReference)
        {
            return LooseEquals(leftReference ? From(left.ToConcatString()) : left, rightReference ? From(right.ToConcatString()) : right);
        }

        if (left.Kind == JinjaValueKind.String && right.Kind == JinjaValueKind.String)
        {
            return string.Equals(left.String, right.String, StringComparison.Ordinal);
        }

        return ToJsNumber(left) == ToJsNumber(right);
    }

    /// <summary>JavaScript's <c>===</c> on the underlying values (what <c>in</c>, <c>equalto</c> and <c>unique</c> use).</summary>
    public static bool StrictEquals(JinjaValue left, JinjaValue right)
    {
        if (left.IsNumber && right.IsNumber)
        {
            return left._number == right._number;
        }

        if (left.IsNothing && right.IsNothing)
        {
            return true;
        }

        if (left.Kind != right.Kind)
        {
            return false;
        }

        return left.Kind switch
        {
            JinjaValueKind.Undefined or JinjaValueKind.Null => true,
            JinjaValueKind.Boolean => left._number == right._number,
            JinjaValueKind.String => string.Equals(left.String, right.String, StringComparison.Ordinal),
            _ => ReferenceEquals(left._payload, right._payload),
        };
    }

    private static double ToJsNumber(JinjaValue value)
    {
        if (value.Kind != JinjaValueKind.String)
        {
            return value._number;
        }

        string text = value.String.Trim(JinjaText.Whitespace);
        if (text.Length == 0)
        {
            return 0;
        }

        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double number) ? number : double.NaN;
    }

    private static string FormatFloat(double value)
    {
        if (value == 0 && double.IsNegative(value))
        {
            return "-0.0";
        }

        return value % 1 == 0 && Math.Abs(value) < 1e21 ? value.ToString("F1", CultureInfo.InvariantCulture) : JinjaJson.FormatNumber(value);
    }
}
