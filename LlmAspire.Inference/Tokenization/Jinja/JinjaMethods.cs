using System.Globalization;
using System.Text;

namespace LlmAspire.Inference.Tokenization.Jinja;

/// <summary>
/// Attribute and index access, slices, and the methods of strings (<c>strip</c>, <c>split</c>, <c>startswith</c>, …)
/// and mappings (<c>get</c>, <c>items</c>, <c>keys</c>, <c>values</c>, <c>dictsort</c>) as the oracle implements them —
/// e.g. <c>strip('\n')</c> ignores its argument and trims all whitespace, <c>title</c> only uppercases word starts.
/// </summary>
internal static class JinjaMethods
{
    private static readonly HashSet<string> StringMethods = new(StringComparer.Ordinal)
    {
        "upper", "lower", "strip", "title", "capitalize", "rstrip", "lstrip", "startswith", "endswith", "split", "replace",
    };

    private static readonly HashSet<string> ObjectMethods = new(StringComparer.Ordinal) { "get", "items", "keys", "values", "dictsort" };

    /// <summary><c>target.name</c> or <c>target[key]</c>: missing keys and indexes are undefined.</summary>
    public static JinjaValue Member(JinjaValue target, JinjaValue property)
    {
        switch (target.Kind)
        {
            case JinjaValueKind.Object:
            case JinjaValueKind.Namespace:
                if (property.Kind != JinjaValueKind.String)
                {
                    throw new JinjaRenderException($"Cannot access property with non-string: got {property.Kind}");
                }

                if (target.Entries.TryGetValue(property.String, out JinjaValue? value))
                {
                    return value;
                }

                return target.Kind == JinjaValueKind.Object && ObjectMethods.Contains(property.String)
                    ? Bound(target, property.String)
                    : JinjaValue.Undefined;
            case JinjaValueKind.Array:
            case JinjaValueKind.String:
                if (property.Kind == JinjaValueKind.Integer)
                {
                    int count = target.Kind == JinjaValueKind.Array ? target.Items.Count : target.String.Length;
                    int index = (int)property.Number;
                    if (index < 0)
                    {
                        index += count;
                    }

                    if (index < 0 || index >= count)
                    {
                        return JinjaValue.Undefined;
                    }

                    return target.Kind == JinjaValueKind.Array ? target.Items[index] : JinjaValue.From(target.String[index].ToString());
                }

                if (property.Kind == JinjaValueKind.String)
                {
                    if (property.String == "length")
                    {
                        return JinjaValue.FromInteger(target.Kind == JinjaValueKind.Array ? target.Items.Count : target.String.Length);
                    }

                    return target.Kind == JinjaValueKind.String && StringMethods.Contains(property.String) ? Bound(target, property.String) : JinjaValue.Undefined;
                }

                throw new JinjaRenderException($"Cannot access property with non-string/non-number: got {property.Kind}");
            default:
                if (property.Kind != JinjaValueKind.String)
                {
                    throw new JinjaRenderException($"Cannot access property with non-string: got {property.Kind}");
                }

                return JinjaValue.Undefined;
        }
    }

    /// <summary>Calls <c>target.name(...)</c> when it is a built-in method (and, for a mapping, not one of its keys).</summary>
    public static bool TryCallMethod(JinjaValue target, string name, List<JinjaValue> arguments, Dictionary<string, JinjaValue>? keywords, out JinjaValue result)
    {
        if (target.Kind == JinjaValueKind.String && StringMethods.Contains(name))
        {
            result = CallStringMethod(target.String, name, arguments, keywords);
            return true;
        }

        if (target.Kind == JinjaValueKind.Object && ObjectMethods.Contains(name) && !target.Entries.ContainsKey(name))
        {
            result = CallObjectMethod(target, name, arguments, keywords);
            return true;
        }

        result = JinjaValue.Undefined;
        return false;
    }

    /// <summary>Python slicing of a list or string (<c>[1:]</c>, <c>[:-1]</c>, <c>[::-1]</c>).</summary>
    public static JinjaValue Slice(JinjaValue target, JinjaValue start, JinjaValue stop, JinjaValue step)
    {
        if (target.Kind is not (JinjaValueKind.Array or JinjaValueKind.String))
        {
            throw new JinjaRenderException("Slice object must be an array or string");
        }

        foreach (JinjaValue part in (ReadOnlySpan<JinjaValue>)[start, stop, step])
        {
            if (part.Kind is not (JinjaValueKind.Integer or JinjaValueKind.Undefined))
            {
                throw new JinjaRenderException("Slice indices must be integers or undefined");
            }
        }

        int length = target.Kind == JinjaValueKind.Array ? target.Items.Count : CodePoints(target.String).Count;
        int stepValue = step.Kind == JinjaValueKind.Undefined ? 1 : (int)step.Number;
        if (stepValue == 0)
        {
            throw new JinjaRenderException("slice step cannot be zero");
        }

        int from;
        int to;
        if (stepValue > 0)
        {
            from = start.Kind == JinjaValueKind.Undefined ? 0 : Clamp((int)start.Number, length, 0, length);
            to = stop.Kind == JinjaValueKind.Undefined ? length : Clamp((int)stop.Number, length, 0, length);
        }
        else
        {
            from = start.Kind == JinjaValueKind.Undefined ? length - 1 : Clamp((int)start.Number, length, -1, length - 1);
            to = stop.Kind == JinjaValueKind.Undefined ? -1 : ClampStopBackwards((int)stop.Number, length);
        }

        var indexes = new List<int>();
        for (int i = from; stepValue > 0 ? i < to : i > to; i += stepValue)
        {
            indexes.Add(i);
        }

        if (target.Kind == JinjaValueKind.Array)
        {
            return JinjaValue.FromList(indexes.ConvertAll(i => target.Items[i]));
        }

        List<string> points = CodePoints(target.String);
        var text = new StringBuilder();
        foreach (int i in indexes)
        {
            text.Append(points[i]);
        }

        return JinjaValue.From(text.ToString());
    }

    /// <summary>The characters of <paramref name="text"/> by code point (JavaScript's <c>Array.from(string)</c>).</summary>
    public static List<string> CodePoints(string text)
    {
        var points = new List<string>(text.Length);
        for (int i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                points.Add(text.Substring(i, 2));
                i++;
            }
            else
            {
                points.Add(text[i].ToString());
            }
        }

        return points;
    }

    private static int Clamp(int index, int length, int min, int max) => index < 0 ? Math.Max(length + index, min) : Math.Min(index, max);

    private static int ClampStopBackwards(int stop, int length) => stop < -1 ? Math.Max(length + stop, -1) : Math.Min(stop, length - 1);

    private static JinjaValue Bound(JinjaValue target, string name) => JinjaValue.FromFunction((arguments, keywords) =>
        target.Kind == JinjaValueKind.String
            ? CallStringMethod(target.String, name, [.. arguments], keywords is null ? null : new Dictionary<string, JinjaValue>(keywords, StringComparer.Ordinal))
            : CallObjectMethod(target, name, [.. arguments], keywords is null ? null : new Dictionary<string, JinjaValue>(keywords, StringComparer.Ordinal)));

    private static JinjaValue CallStringMethod(string value, string name, List<JinjaValue> arguments, Dictionary<string, JinjaValue>? keywords)
    {
        switch (name)
        {
            case "upper":
                return JinjaValue.From(value.ToUpperInvariant());
            case "lower":
                return JinjaValue.From(value.ToLowerInvariant());
            case "strip":
                return JinjaValue.From(JinjaText.Trim(value));
            case "lstrip":
                return JinjaValue.From(JinjaText.TrimStart(value));
            case "rstrip":
                return JinjaValue.From(JinjaText.TrimEnd(value));
            case "title":
                return JinjaValue.From(Title(value));
            case "capitalize":
                return JinjaValue.From(Capitalize(value));
            case "startswith":
            case "endswith":
                return JinjaValue.From(Affix(value, name, arguments));
            case "split":
                return Split(value, arguments);
            default:
                return Replace(value, arguments, keywords);
        }
    }

    /// <summary>JavaScript's <c>/\b\w/g</c> uppercased: word starts only, the rest unchanged.</summary>
    public static string Title(string value)
    {
        var text = new StringBuilder(value);
        for (int i = 0; i < text.Length; i++)
        {
            if (JinjaText.IsWord(text[i]) && (i == 0 || !JinjaText.IsWord(text[i - 1])))
            {
                text[i] = char.ToUpperInvariant(text[i]);
            }
        }

        return text.ToString();
    }

    /// <summary>The first character uppercased, the rest unchanged.</summary>
    public static string Capitalize(string value) => value.Length == 0 ? value : value[..1].ToUpperInvariant() + value[1..];

    private static bool Affix(string value, string name, List<JinjaValue> arguments)
    {
        if (arguments.Count == 0)
        {
            throw new JinjaRenderException($"{name}() requires at least one argument");
        }

        bool Test(string affix) => name == "startswith" ? value.StartsWith(affix, StringComparison.Ordinal) : value.EndsWith(affix, StringComparison.Ordinal);
        JinjaValue pattern = arguments[0];
        if (pattern.Kind == JinjaValueKind.String)
        {
            return Test(pattern.String);
        }

        if (pattern.Kind == JinjaValueKind.Array)
        {
            foreach (JinjaValue item in pattern.Items)
            {
                if (item.Kind != JinjaValueKind.String)
                {
                    throw new JinjaRenderException($"{name}() tuple elements must be strings");
                }

                if (Test(item.String))
                {
                    return true;
                }
            }

            return false;
        }

        throw new JinjaRenderException($"{name}() argument must be a string or tuple of strings");
    }

    private static JinjaValue Split(string value, List<JinjaValue> arguments)
    {
        JinjaValue separator = arguments.Count > 0 ? arguments[0] : JinjaValue.Null;
        if (separator.Kind is not (JinjaValueKind.String or JinjaValueKind.Null))
        {
            throw new JinjaRenderException("sep argument must be a string or null");
        }

        JinjaValue maxSplitValue = arguments.Count > 1 ? arguments[1] : JinjaValue.FromInteger(-1);
        if (maxSplitValue.Kind != JinjaValueKind.Integer)
        {
            throw new JinjaRenderException("maxsplit argument must be a number");
        }

        int maxSplit = (int)maxSplitValue.Number;
        var parts = new List<JinjaValue>();
        if (separator.Kind == JinjaValueKind.Null)
        {
            string text = JinjaText.TrimStart(value);
            int i = 0;
            while (i < text.Length)
            {
                int start = i;
                while (i < text.Length && !JinjaText.IsWhitespace(text[i]))
                {
                    i++;
                }

                if (maxSplit >= 0 && parts.Count >= maxSplit)
                {
                    parts.Add(JinjaValue.From(text[start..]));
                    break;
                }

                parts.Add(JinjaValue.From(text[start..i]));
                while (i < text.Length && JinjaText.IsWhitespace(text[i]))
                {
                    i++;
                }
            }

            return JinjaValue.FromList(parts);
        }

        if (separator.String.Length == 0)
        {
            throw new JinjaRenderException("empty separator");
        }

        string[] pieces = value.Split(separator.String);
        if (maxSplit >= 0 && pieces.Length > maxSplit)
        {
            pieces = [.. pieces[..maxSplit], string.Join(separator.String, pieces[maxSplit..])];
        }

        foreach (string piece in pieces)
        {
            parts.Add(JinjaValue.From(piece));
        }

        return JinjaValue.FromList(parts);
    }

    /// <summary>Python's <c>str.replace(old, new[, count])</c>.</summary>
    public static JinjaValue Replace(string value, List<JinjaValue> arguments, Dictionary<string, JinjaValue>? keywords)
    {
        if (arguments.Count < 2)
        {
            throw new JinjaRenderException("replace() requires at least two arguments");
        }

        if (arguments[0].Kind != JinjaValueKind.String || arguments[1].Kind != JinjaValueKind.String)
        {
            throw new JinjaRenderException("replace() arguments must be strings");
        }

        JinjaValue count = arguments.Count > 2 ? arguments[2] : keywords?.GetValueOrDefault("count") ?? JinjaValue.Null;
        if (count.Kind is not (JinjaValueKind.Integer or JinjaValueKind.Null))
        {
            throw new JinjaRenderException("replace() count argument must be a number or null");
        }

        string from = arguments[0].String;
        string to = arguments[1].String;
        long remaining = count.Kind == JinjaValueKind.Null || count.Number < 0 ? long.MaxValue : (long)count.Number;
        if (remaining == 0)
        {
            return JinjaValue.From(value);
        }

        var text = new StringBuilder();
        if (from.Length == 0)
        {
            // Python inserts the replacement before every character and at the end.
            List<string> points = CodePoints(value);
            foreach (string point in points)
            {
                if (remaining-- > 0)
                {
                    text.Append(to);
                }

                text.Append(point);
            }

            if (remaining > 0)
            {
                text.Append(to);
            }

            return JinjaValue.From(text.ToString());
        }

        int at = 0;
        while (remaining > 0)
        {
            int found = value.IndexOf(from, at, StringComparison.Ordinal);
            if (found < 0)
            {
                break;
            }

            text.Append(value, at, found - at).Append(to);
            at = found + from.Length;
            remaining--;
        }

        text.Append(value, at, value.Length - at);
        return JinjaValue.From(text.ToString());
    }

    /// <summary>A mapping's built-in method <paramref name="name"/> (get, items, keys, values, dictsort).</summary>
    public static JinjaValue CallObjectMethod(JinjaValue target, string name, List<JinjaValue> arguments, Dictionary<string, JinjaValue>? keywords)
    {
        switch (name)
        {
            case "get":
                JinjaValue key = arguments.Count > 0 ? arguments[0] : JinjaValue.Undefined;
                if (key.Kind != JinjaValueKind.String)
                {
                    throw new JinjaRenderException($"Object key must be a string: got {key.Kind}");
                }

                return target.Entries.TryGetValue(key.String, out JinjaValue? found) ? found : arguments.Count > 1 ? arguments[1] : JinjaValue.Null;
            case "items":
                return Items(target);
            case "keys":
                return JinjaValue.FromList([.. target.Entries.Keys.Select(JinjaValue.From)]);
            case "values":
                return JinjaValue.FromList([.. target.Entries.Values]);
            default:
                return DictSort(target, arguments, keywords);
        }
    }

    /// <summary>The <c>[key, value]</c> pairs of a mapping.</summary>
    public static JinjaValue Items(JinjaValue target) =>
        JinjaValue.FromList([.. target.Entries.Select(static entry => JinjaValue.FromList([JinjaValue.From(entry.Key), entry.Value]))]);

    private static JinjaValue DictSort(JinjaValue target, List<JinjaValue> arguments, Dictionary<string, JinjaValue>? keywords)
    {
        JinjaValue caseSensitive = arguments.ElementAtOrDefault(0) ?? keywords?.GetValueOrDefault("case_sensitive") ?? JinjaValue.False;
        JinjaValue by = arguments.ElementAtOrDefault(1) ?? keywords?.GetValueOrDefault("by") ?? JinjaValue.From("key");
        JinjaValue reverse = arguments.ElementAtOrDefault(2) ?? keywords?.GetValueOrDefault("reverse") ?? JinjaValue.False;
        if (caseSensitive.Kind != JinjaValueKind.Boolean || reverse.Kind != JinjaValueKind.Boolean || by.Kind != JinjaValueKind.String || by.String is not ("key" or "value"))
        {
            throw new JinjaRenderException("dictsort expects case_sensitive and reverse booleans and by 'key' or 'value'");
        }

        int index = by.String == "key" ? 0 : 1;
        List<JinjaValue> pairs = Items(target).Items;
        Comparison<JinjaValue> compare = (a, b) => Compare(a.Items[index], b.Items[index], caseSensitive.IsTruthy);
        return JinjaValue.FromList(SortStable(pairs, reverse.IsTruthy ? (a, b) => -compare(a, b) : compare));
    }

    /// <summary>A stable sort (JavaScript's <c>Array.prototype.sort</c> is stable); a comparison's error propagates as is.</summary>
    public static List<JinjaValue> SortStable(List<JinjaValue> items, Comparison<JinjaValue> comparison)
    {
        var sorted = new List<JinjaValue>(items.Count);
        foreach (JinjaValue item in items)
        {
            int at = sorted.Count;
            while (at > 0 && comparison(sorted[at - 1], item) > 0)
            {
                at--;
            }

            sorted.Insert(at, item);
        }

        return sorted;
    }

    /// <summary>The oracle's ordering: numbers (and booleans) with numbers, strings with strings, none with none.</summary>
    public static int Compare(JinjaValue a, JinjaValue b, bool caseSensitive)
    {
        if (a.Kind == JinjaValueKind.Null && b.Kind == JinjaValueKind.Null)
        {
            return 0;
        }

        if (a.Kind == JinjaValueKind.Undefined && b.Kind == JinjaValueKind.Undefined)
        {
            return 0;
        }

        if (a.IsNothing || b.IsNothing)
        {
            throw new JinjaRenderException($"Cannot compare {a.Kind} with {b.Kind}");
        }

        if (a.IsNumeric && b.IsNumeric)
        {
            return a.Number.CompareTo(b.Number);
        }

        if (a.Kind != b.Kind || a.Kind != JinjaValueKind.String)
        {
            throw new JinjaRenderException($"Cannot compare {a.Kind} and {b.Kind}");
        }

        string x = caseSensitive ? a.String : a.String.ToLowerInvariant();
        string y = caseSensitive ? b.String : b.String.ToLowerInvariant();
        return Math.Sign(string.CompareOrdinal(x, y));
    }

    /// <summary>JavaScript's <c>parseInt(text, 10)</c> (NaN when no digits lead).</summary>
    public static double ParseInt(string text)
    {
        string s = JinjaText.TrimStart(text);
        int i = 0;
        bool negative = false;
        if (i < s.Length && s[i] is '+' or '-')
        {
            negative = s[i] == '-';
            i++;
        }

        int start = i;
        while (i < s.Length && char.IsAsciiDigit(s[i]))
        {
            i++;
        }

        if (i == start)
        {
            return double.NaN;
        }

        double value = double.Parse(s.AsSpan(start, i - start), CultureInfo.InvariantCulture);
        return negative ? -value : value;
    }

    /// <summary>JavaScript's <c>parseFloat(text)</c> (NaN when no number leads).</summary>
    public static double ParseFloat(string text)
    {
        string s = JinjaText.TrimStart(text);
        for (int length = s.Length; length > 0; length--)
        {
            if (char.IsAsciiDigit(s[length - 1]) || s[length - 1] == '.')
            {
                if (double.TryParse(s.AsSpan(0, length), NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent, CultureInfo.InvariantCulture, out double value))
                {
                    return value;
                }
            }
        }

        if (s.StartsWith("Infinity", StringComparison.Ordinal) || s.StartsWith("+Infinity", StringComparison.Ordinal))
        {
            return double.PositiveInfinity;
        }

        return s.StartsWith("-Infinity", StringComparison.Ordinal) ? double.NegativeInfinity : double.NaN;
    }
}
