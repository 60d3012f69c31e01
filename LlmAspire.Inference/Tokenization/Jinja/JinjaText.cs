namespace LlmAspire.Inference.Tokenization.Jinja;

/// <summary>JavaScript's notion of whitespace (<c>\s</c>, <c>trim()</c>), which the oracle's lexer and string methods use.</summary>
internal static class JinjaText
{
    /// <summary>The characters JavaScript's <c>String.prototype.trim</c> removes.</summary>
    public static readonly char[] Whitespace =
    [
        '\t', '\n', '\v', '\f', '\r', ' ', '\u00A0', '\u1680', '\u2000', '\u2001', '\u2002', '\u2003', '\u2004', '\u2005',
        '\u2006', '\u2007', '\u2008', '\u2009', '\u200A', '\u2028', '\u2029', '\u202F', '\u205F', '\u3000', '\uFEFF',
    ];

    /// <summary>Whether <paramref name="c"/> is JavaScript whitespace.</summary>
    public static bool IsWhitespace(char c) => c <= ' '
        ? c == ' ' || (c >= '\t' && c <= '\r')
        : c > '\x7F' && (c == '\u00A0' || c == '\u1680' || (c >= '\u2000' && c <= '\u200A') || c == '\u2028' || c == '\u2029' || c == '\u202F' || c == '\u205F' || c == '\u3000' || c == '\uFEFF');

    /// <summary>Whether <paramref name="c"/> matches <c>\w</c>.</summary>
    public static bool IsWord(char c) => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';

    /// <summary>JavaScript's <c>trim()</c>.</summary>
    public static string Trim(string text) => text.Trim(Whitespace);

    /// <summary>JavaScript's <c>trimStart()</c>.</summary>
    public static string TrimStart(string text) => text.TrimStart(Whitespace);

    /// <summary>JavaScript's <c>trimEnd()</c>.</summary>
    public static string TrimEnd(string text) => text.TrimEnd(Whitespace);
}
