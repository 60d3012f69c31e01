using System.Globalization;
using System.Text;

namespace LlmAspire.Inference.Tokenization.Jinja;

/// <summary>
/// The names every template sees: <c>true</c>/<c>false</c>/<c>none</c> (and their title-case spellings),
/// <c>namespace()</c>, <c>range()</c>, <c>raise_exception(message)</c> and <c>strftime_now(format)</c>.
/// </summary>
internal static class JinjaGlobals
{
    private static readonly string[] MonthsShort = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

    private static readonly string[] MonthsLong = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

    private static readonly JinjaValue Namespace = JinjaValue.FromFunction(static (arguments, keywords) =>
    {
        if (arguments.Count > 1)
        {
            throw new JinjaRenderException($"namespace expected at most 1 argument, got {arguments.Count}");
        }

        var entries = new OrderedDictionary<string, JinjaValue>(StringComparer.Ordinal);
        if (arguments.Count == 1)
        {
            JinjaValue source = arguments[0];
            if (source.Kind == JinjaValueKind.Object)
            {
                foreach ((string key, JinjaValue value) in source.Entries)
                {
                    entries[key] = value;
                }
            }
            else if (source.Kind == JinjaValueKind.Array)
            {
                foreach (JinjaValue pair in source.Items)
                {
                    if (pair.Kind != JinjaValueKind.Array || pair.Items.Count != 2 || pair.Items[0].Kind != JinjaValueKind.String)
                    {
                        throw new JinjaRenderException("namespace expected an object or an iterable of [key, value] pairs");
                    }

                    entries[pair.Items[0].String] = pair.Items[1];
                }
            }
            else
            {
                throw new JinjaRenderException($"'{source.Kind}' object is not iterable");
            }
        }

        foreach ((string key, JinjaValue value) in keywords ?? new Dictionary<string, JinjaValue>())
        {
            entries[key] = value;
        }

        return JinjaValue.FromNamespace(entries);
    });

    private static readonly JinjaValue RaiseException = JinjaValue.FromFunction(static (arguments, _) =>
        throw new JinjaRenderException(arguments.Count > 0 ? arguments[0].ToString() : "undefined"));

    private static readonly JinjaValue Range = JinjaValue.FromFunction(static (arguments, _) =>
    {
        if (arguments.Count == 0 || arguments.Any(static argument => !argument.IsNumber))
        {
            throw new JinjaRenderException("range() expects numbers");
        }

        double start = arguments.Count > 1 ? arguments[0].Number : 0;
        double stop = arguments.Count > 1 ? arguments[1].Number : arguments[0].Number;
        double step = arguments.Count > 2 ? arguments[2].Number : 1;
        if (step == 0)
        {
            throw new JinjaRenderException("range() step must not be zero");
        }

        var items = new List<JinjaValue>();
        for (double i = start; step > 0 ? i < stop : i > stop; i += step)
        {
            items.Add(i % 1 == 0 ? JinjaValue.FromInteger(i) : JinjaValue.FromFloat(i));
        }

        return JinjaValue.FromList(items);
    });

    /// <summary>A scope holding the globals, dated by <paramref name="clock"/>.</summary>
    public static JinjaScope Create(TimeProvider clock)
    {
        var scope = new JinjaScope(null);
        scope.Set("false", JinjaValue.False);
        scope.Set("true", JinjaValue.True);
        scope.Set("none", JinjaValue.Null);
        scope.Set("False", JinjaValue.False);
        scope.Set("True", JinjaValue.True);
        scope.Set("None", JinjaValue.Null);
        scope.Set("namespace", Namespace);
        scope.Set("raise_exception", RaiseException);
        scope.Set("range", Range);
        scope.Set("strftime_now", JinjaValue.FromFunction((arguments, _) =>
            JinjaValue.From(StrftimeNow(clock.GetLocalNow(), arguments.Count > 0 ? arguments[0].ToString() : string.Empty))));
        return scope;
    }

    /// <summary>The oracle's <c>strftime</c>: %Y %m %d %b %B %H %M %% (English month names); other directives stay as written.</summary>
    public static string StrftimeNow(DateTimeOffset now, string format)
    {
        var text = new StringBuilder();
        for (int i = 0; i < format.Length; i++)
        {
            if (format[i] != '%' || i + 1 >= format.Length)
            {
                text.Append(format[i]);
                continue;
            }

            string? replacement = format[i + 1] switch
            {
                'Y' => now.Year.ToString(CultureInfo.InvariantCulture),
                'm' => now.Month.ToString("00", CultureInfo.InvariantCulture),
                'd' => now.Day.ToString("00", CultureInfo.InvariantCulture),
                'b' => MonthsShort[now.Month - 1],
                'B' => MonthsLong[now.Month - 1],
                'H' => now.Hour.ToString("00", CultureInfo.InvariantCulture),
                'M' => now.Minute.ToString("00", CultureInfo.InvariantCulture),
                '%' => "%",
                _ => null,
            };
            if (replacement is null)
            {
                text.Append('%');
                continue;
            }

            text.Append(replacement);
            i++;
        }

        return text.ToString();
    }
}
