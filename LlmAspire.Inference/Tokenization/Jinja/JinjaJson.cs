using System.Globalization;
using System.Text;
using System.Text.Json;

namespace LlmAspire.Inference.Tokenization.Jinja;

/// <summary>
/// JSON in and out of template values: <c>tojson</c> and the printing of lists and mappings exactly as the oracle
/// writes them (JavaScript's <c>JSON.stringify</c> for strings and numbers, Python's separators), and the
/// conversion of parsed JSON (tool schemas, call arguments) into values.
/// </summary>
public static class JinjaJson
{
    /// <summary>Serializes <paramref name="value"/>; <paramref name="undefinedAsNull"/> writes undefined as <c>null</c> (else <c>undefined</c>, as printing does).</summary>
    /// <exception cref="JinjaRenderException">A function, which has no JSON form.</exception>
    public static string Serialize(JinjaValue value, JinjaJsonOptions options, bool undefinedAsNull = true)
    {
        ArgumentNullException.ThrowIfNull(value);
        ArgumentNullException.ThrowIfNull(options);
        var text = new StringBuilder();
        Write(text, value, options, 0, undefinedAsNull);
        return text.ToString();
    }

    /// <summary>The value of a parsed JSON element: integral numbers become integers, as <c>JSON.parse</c> and the oracle make them.</summary>
    public static JinjaValue FromJson(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var entries = new OrderedDictionary<string, JinjaValue>(StringComparer.Ordinal);
                foreach (JsonProperty property in element.EnumerateObject())
                {
                    entries[property.Name] = FromJson(property.Value);
                }

                return JinjaValue.FromObject(entries);
            case JsonValueKind.Array:
                var items = new List<JinjaValue>(element.GetArrayLength());
                foreach (JsonElement item in element.EnumerateArray())
                {
                    items.Add(FromJson(item));
                }

                return JinjaValue.FromList(items);
            case JsonValueKind.String:
                return JinjaValue.From(element.GetString()!);
            case JsonValueKind.Number:
                double number = element.GetDouble();
                return number % 1 == 0 ? JinjaValue.FromInteger(number) : JinjaValue.FromFloat(number);
            case JsonValueKind.True:
                return JinjaValue.True;
            case JsonValueKind.False:
                return JinjaValue.False;
            default:
                return JinjaValue.Null;
        }
    }

    /// <summary>A number as JavaScript's <c>String(number)</c> writes it (shortest round trip; exponent beyond 1e21 and below 1e-6).</summary>
    public static string FormatNumber(double value)
    {
        if (double.IsNaN(value))
        {
            return "NaN";
        }

        if (double.IsInfinity(value))
        {
            return value > 0 ? "Infinity" : "-Infinity";
        }

        if (value == 0)
        {
            return "0";
        }

        if (value % 1 == 0 && Math.Abs(value) < 1e21)
        {
            return value.ToString("F0", CultureInfo.InvariantCulture);
        }

        // Shortest round-trip digits and the decimal exponent, then JavaScript's Number::toString layout.
        (string digits, int exponent) = Decompose(Math.Abs(value).ToString("R", CultureInfo.InvariantCulture));
        int k = digits.Length;
        int n = exponent + 1;
        string sign = value < 0 ? "-" : string.Empty;
        if (k <= n && n <= 21)
        {
            return sign + digits + new string('0', n - k);
        }

        if (n > 0 && n <= 21)
        {
            return sign + digits[..n] + "." + digits[n..];
        }

        if (n > -6 && n <= 0)
        {
            return sign + "0." + new string('0', -n) + digits;
        }

        string mantissa = k == 1 ? digits : digits[..1] + "." + digits[1..];
        int e = n - 1;
        return sign + mantissa + "e" + (e >= 0 ? "+" : "-") + Math.Abs(e).ToString(CultureInfo.InvariantCulture);
    }

    private static (string Digits, int Exponent) Decompose(string text)
    {
        // text is "d.dddE±x", "ddd.ddd" or "ddd": the significant digits and the exponent of the first one.
        int exponent = 0;
        int e = text.IndexOf('E', StringComparison.Ordinal);
        if (e >= 0)
        {
            exponent = int.Parse(text.AsSpan(e + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            text = text[..e];
        }

        int point = text.IndexOf('.', StringComparison.Ordinal);
        string integral = point >= 0 ? text[..point] : text;
        string fraction = point >= 0 ? text[(point + 1)..] : string.Empty;
        string all = integral + fraction;
        int leading = 0;
        while (leading < all.Length - 1 && all[leading] == '0')
        {
            leading++;
        }

        exponent += integral.Length - 1 - leading;
        string digits = all[leading..].TrimEnd('0');
        return (digits.Length == 0 ? "0" : digits, exponent);
    }

    private static void Write(StringBuilder text, JinjaValue value, JinjaJsonOptions options, int depth, bool undefinedAsNull)
    {
        switch (value.Kind)
        {
            case JinjaValueKind.Null:
                text.Append("null");
                return;
            case JinjaValueKind.Undefined:
                text.Append(undefinedAsNull ? "null" : "undefined");
                return;
            case JinjaValueKind.Boolean:
                text.Append(value.Number != 0 ? "true" : "false");
                return;
            case JinjaValueKind.Integer:
            case JinjaValueKind.Float:
                text.Append(double.IsFinite(value.Number) ? FormatNumber(value.Number) : "null");
                return;
            case JinjaValueKind.String:
                WriteString(text, value.String, options.EnsureAscii);
                return;
            case JinjaValueKind.Array when !value.IsTuple:
            case JinjaValueKind.Object:
            case JinjaValueKind.Namespace:
                break;
            default:
                throw new JinjaRenderException($"Cannot convert to JSON: {(value.IsTuple ? "tuple" : value.Kind)}");
        }

        int indent = options.Indent ?? 0;
        string itemSeparator = options.ItemSeparator ?? (indent > 0 ? "," : ", ");
        string keySeparator = options.KeySeparator ?? ": ";
        string indentUnit = new(' ', indent);
        if (value.Kind == JinjaValueKind.Array)
        {
            List<JinjaValue> items = value.Items;
            text.Append('[');
            for (int i = 0; i < items.Count; i++)
            {
                if (i > 0)
                {
                    text.Append(itemSeparator);
                }

                if (indent > 0)
                {
                    NewLine(text, indentUnit, depth + 1);
                }

                Write(text, items[i], options, depth + 1, undefinedAsNull);
            }

            if (indent > 0 && items.Count > 0)
            {
                NewLine(text, indentUnit, depth);
            }

            text.Append(']');
            return;
        }

        IEnumerable<KeyValuePair<string, JinjaValue>> entries = value.Entries;
        if (options.SortKeys)
        {
            // JavaScript's localeCompare: letters case-insensitively first, then lowercase before uppercase.
            entries = entries.OrderBy(static entry => entry.Key, StringComparer.OrdinalIgnoreCase).ThenByDescending(static entry => entry.Key, StringComparer.Ordinal);
        }

        text.Append('{');
        bool first = true;
        foreach ((string key, JinjaValue item) in entries)
        {
            if (!first)
            {
                text.Append(itemSeparator);
            }

            first = false;
            if (indent > 0)
            {
                NewLine(text, indentUnit, depth + 1);
            }

            WriteString(text, key, options.EnsureAscii);
            text.Append(keySeparator);
            Write(text, item, options, depth + 1, undefinedAsNull);
        }

        if (indent > 0 && !first)
        {
            NewLine(text, indentUnit, depth);
        }

        text.Append('}');
    }

    private static void NewLine(StringBuilder text, string indentUnit, int depth)
    {
        text.Append('\n');
        for (int i = 0; i < depth; i++)
        {
            text.Append(indentUnit);
        }
    }

    /// <summary>JavaScript's <c>JSON.stringify</c> of a string (non-ASCII kept, lone surrogates escaped), optionally ASCII-safe.</summary>
    private static void WriteString(StringBuilder text, string value, bool ensureAscii)
    {
        text.Append('"');
        for (int i = 0; i < value.Length; i++)
        {
            char c = value[i];
            switch (c)
            {
                case '"':
                    text.Append("\\\"");
                    continue;
                case '\\':
                    text.Append("\\\\");
                    continue;
                case '\b':
                    text.Append("\\b");
                    continue;
                case '\f':
                    text.Append("\\f");
                    continue;
                case '\n':
                    text.Append("\\n");
                    continue;
                case '\r':
                    text.Append("\\r");
                    continue;
                case '\t':
                    text.Append("\\t");
                    continue;
            }

            bool loneSurrogate = char.IsHighSurrogate(c)
                ? i + 1 >= value.Length || !char.IsLowSurrogate(value[i + 1])
                : char.IsLowSurrogate(c) && (i == 0 || !char.IsHighSurrogate(value[i - 1]));
            if (c < ' ' || loneSurrogate || (ensureAscii && c >= '\x7F'))
            {
                text.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
            }
            else
            {
                text.Append(c);
            }
        }

        text.Append('"');
    }
}
