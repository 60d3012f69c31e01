using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Numerics;

namespace LlmAspire.Cli.Commands;

/// <summary>
/// Parse-time checks of option values, so that a bad value is a usage error naming the option and the value before
/// any work starts. A value that is not even a number is left to the parser's own error.
/// </summary>
internal static class OptionRules
{
    /// <summary>The value must be at least <paramref name="minimum"/>.</summary>
    public static Option<T> AtLeast<T>(this Option<T> option, T minimum)
        where T : struct, INumber<T>
    {
        ArgumentNullException.ThrowIfNull(option);
        option.Validators.Add(result => Check<T>(result, option.Name, value => value >= minimum, $"at least {minimum}"));
        return option;
    }

    /// <summary>The value, when given, must be at least <paramref name="minimum"/>.</summary>
    public static Option<T?> AtLeast<T>(this Option<T?> option, T minimum)
        where T : struct, INumber<T>
    {
        ArgumentNullException.ThrowIfNull(option);
        option.Validators.Add(result => Check<T>(result, option.Name, value => value >= minimum, $"at least {minimum}"));
        return option;
    }

    /// <summary>The value must be greater than <paramref name="bound"/>.</summary>
    public static Option<T> GreaterThan<T>(this Option<T> option, T bound)
        where T : struct, INumber<T>
    {
        ArgumentNullException.ThrowIfNull(option);
        option.Validators.Add(result => Check<T>(result, option.Name, value => value > bound, $"greater than {bound}"));
        return option;
    }

    /// <summary>The value must lie in (<paramref name="low"/>, <paramref name="high"/>].</summary>
    public static Option<T> Within<T>(this Option<T> option, T low, T high)
        where T : struct, INumber<T>
    {
        ArgumentNullException.ThrowIfNull(option);
        option.Validators.Add(result => Check<T>(result, option.Name, value => value > low && value <= high, $"greater than {low} and at most {high}"));
        return option;
    }

    /// <summary>
    /// The value must parse with <paramref name="parse"/>, which throws <see cref="FormatException"/> or
    /// <see cref="ArgumentException"/> with a message naming what is wrong.
    /// </summary>
    public static Option<string> MustParse(this Option<string> option, Action<string> parse)
    {
        ArgumentNullException.ThrowIfNull(option);
        ArgumentNullException.ThrowIfNull(parse);
        option.Validators.Add(result =>
        {
            if (result.Tokens.Count == 0)
            {
                return;
            }

            string text = result.Tokens[^1].Value;
            try
            {
                parse(text);
            }
            catch (Exception ex) when (ex is FormatException or ArgumentException)
            {
                result.AddError($"{option.Name} '{text}': {ex.Message}");
            }
        });
        return option;
    }

    private static void Check<T>(OptionResult result, string name, Func<T, bool> valid, string expected)
        where T : struct, INumber<T>
    {
        if (result.Tokens.Count > 0
            && T.TryParse(result.Tokens[^1].Value, NumberStyles.Float | NumberStyles.AllowThousands, CultureInfo.InvariantCulture, out T value)
            && !valid(value))
        {
            result.AddError($"{name} must be {expected}, not {result.Tokens[^1].Value}");
        }
    }
}
