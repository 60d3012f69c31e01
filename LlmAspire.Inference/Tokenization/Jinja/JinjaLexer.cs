using System.Text;

namespace LlmAspire.Inference.Tokenization.Jinja;

/// <summary>
/// Splits a template into tokens as <c>@huggingface/jinja</c> 0.5.13 does: first the whitespace rules transformers
/// renders with (one trailing newline dropped, <c>lstrip_blocks</c>, <c>trim_blocks</c>, transformers'
/// <c>{% generation %}</c> tags removed), then text, <c>{{ }}</c>, <c>{% %}</c> and <c>{# #}</c> with the
/// <c>-</c> whitespace control. Each token keeps the line it came from in the original template, for errors.
/// </summary>
internal static class JinjaLexer
{
    private static readonly (string Sequence, JinjaTokenType Type)[] Rules =
    [
        ("{%", JinjaTokenType.OpenStatement),
        ("%}", JinjaTokenType.CloseStatement),
        ("{{", JinjaTokenType.OpenExpression),
        ("}}", JinjaTokenType.CloseExpression),
        ("(", JinjaTokenType.OpenParen),
        (")", JinjaTokenType.CloseParen),
        ("{", JinjaTokenType.OpenCurlyBracket),
        ("}", JinjaTokenType.CloseCurlyBracket),
        ("[", JinjaTokenType.OpenSquareBracket),
        ("]", JinjaTokenType.CloseSquareBracket),
        (",", JinjaTokenType.Comma),
        (".", JinjaTokenType.Dot),
        (":", JinjaTokenType.Colon),
        ("|", JinjaTokenType.Pipe),
        ("<=", JinjaTokenType.ComparisonBinaryOperator),
        (">=", JinjaTokenType.ComparisonBinaryOperator),
        ("==", JinjaTokenType.ComparisonBinaryOperator),
        ("!=", JinjaTokenType.ComparisonBinaryOperator),
        ("<", JinjaTokenType.ComparisonBinaryOperator),
        (">", JinjaTokenType.ComparisonBinaryOperator),
        ("+", JinjaTokenType.AdditiveBinaryOperator),
        ("-", JinjaTokenType.AdditiveBinaryOperator),
        ("~", JinjaTokenType.AdditiveBinaryOperator),
        ("**", JinjaTokenType.ExponentiationBinaryOperator),
        ("*", JinjaTokenType.MultiplicativeBinaryOperator),
        ("//", JinjaTokenType.MultiplicativeBinaryOperator),
        ("/", JinjaTokenType.MultiplicativeBinaryOperator),
        ("%", JinjaTokenType.MultiplicativeBinaryOperator),
        ("=", JinjaTokenType.Equals),
    ];

    /// <summary>The tokens of <paramref name="template"/>.</summary>
    /// <exception cref="JinjaTemplateException">A character or escape the language does not have, or an unterminated string or comment.</exception>
    public static List<JinjaToken> Tokenize(string template)
    {
        (string src, int[] lines) = Preprocess(template);
        var tokens = new List<JinjaToken>();
        int length = src.Length;
        int pos = 0;
        int curlyDepth = 0;

        int LineAt(int at) => lines.Length == 0 ? 1 : lines[Math.Min(at, lines.Length - 1)];
        void Add(JinjaTokenType type, string value, int at) => tokens.Add(new JinjaToken(type, value, LineAt(at)));
        JinjaTemplateException Error(string message, int at) => new(message, LineAt(at));

        string ConsumeWhile(Func<char, bool> predicate)
        {
            int start = pos;
            while (pos < length && predicate(src[pos]))
            {
                if (++pos >= length)
                {
                    throw Error("unexpected end of the template", start);
                }
            }

            return src[start..pos];
        }

        void StripTrailingWhitespace()
        {
            if (tokens.Count > 0 && tokens[^1].Type == JinjaTokenType.Text)
            {
                JinjaToken last = tokens[^1];
                string trimmed = JinjaText.TrimEnd(last.Value);
                if (trimmed.Length == 0)
                {
                    tokens.RemoveAt(tokens.Count - 1);
                }
                else
                {
                    tokens[^1] = last with { Value = trimmed };
                }
            }
        }

        void SkipLeadingWhitespace()
        {
            while (pos < length && JinjaText.IsWhitespace(src[pos]))
            {
                pos++;
            }
        }

        while (pos < length)
        {
            JinjaTokenType? lastType = tokens.Count > 0 ? tokens[^1].Type : null;
            if (lastType is null or JinjaTokenType.CloseStatement or JinjaTokenType.CloseExpression or JinjaTokenType.Comment)
            {
                int end = pos;
                while (true)
                {
                    end = src.IndexOf('{', end);
                    if (end < 0)
                    {
                        end = length;
                        break;
                    }

                    char next = end + 1 < length ? src[end + 1] : '\0';
                    if (next is '%' or '{' or '#')
                    {
                        break;
                    }

                    end++;
                }

                if (end > pos)
                {
                    Add(JinjaTokenType.Text, src[pos..end], pos);
                    pos = end;
                    continue;
                }
            }

            if (src[pos] == '{')
            {
                char next = pos + 1 < length ? src[pos + 1] : '\0';
                if (next == '#')
                {
                    int start = pos;
                    pos += 2;
                    bool stripBefore = pos < length && src[pos] == '-';
                    if (stripBefore)
                    {
                        pos++;
                    }

                    int end = src.IndexOf("#}", pos, StringComparison.Ordinal);
                    if (end < 0)
                    {
                        throw Error("a comment {# is never closed with #}", start);
                    }

                    string comment = src[pos..end];
                    bool stripAfter = comment.EndsWith('-');
                    if (stripAfter)
                    {
                        comment = comment[..^1];
                    }

                    if (stripBefore)
                    {
                        StripTrailingWhitespace();
                    }

                    Add(JinjaTokenType.Comment, comment, start);
                    pos = end + 2;
                    if (stripAfter)
                    {
                        SkipLeadingWhitespace();
                    }

                    continue;
                }

                if (pos + 2 < length && src[pos + 2] == '-')
                {
                    if (next == '%')
                    {
                        StripTrailingWhitespace();
                        Add(JinjaTokenType.OpenStatement, "{%", pos);
                        pos += 3;
                        continue;
                    }

                    if (next == '{')
                    {
                        StripTrailingWhitespace();
                        Add(JinjaTokenType.OpenExpression, "{{", pos);
                        curlyDepth = 0;
                        pos += 3;
                        continue;
                    }
                }
            }

            ConsumeWhile(JinjaText.IsWhitespace);
            char c = src[pos];
            if (c == '-' && pos + 2 < length && src[pos + 2] == '}')
            {
                char next = src[pos + 1];
                if (next == '%')
                {
                    Add(JinjaTokenType.CloseStatement, "%}", pos);
                    pos += 3;
                    SkipLeadingWhitespace();
                    continue;
                }

                if (next == '}')
                {
                    Add(JinjaTokenType.CloseExpression, "}}", pos);
                    pos += 3;
                    SkipLeadingWhitespace();
                    continue;
                }
            }

            if (c is '-' or '+')
            {
                if (lastType is null or JinjaTokenType.Text)
                {
                    throw Error($"unexpected character '{c}'", pos);
                }

                if (lastType is not (JinjaTokenType.Identifier or JinjaTokenType.NumericLiteral or JinjaTokenType.StringLiteral or JinjaTokenType.CloseParen or JinjaTokenType.CloseSquareBracket))
                {
                    int start = pos;
                    pos++;
                    string num = ConsumeWhile(IsDigit);
                    if (num.Length > 0 && pos + 1 < length && src[pos] == '.' && IsDigit(src[pos + 1]))
                    {
                        pos++;
                        num = num + "." + ConsumeWhile(IsDigit);
                    }

                    Add(num.Length > 0 ? JinjaTokenType.NumericLiteral : JinjaTokenType.UnaryOperator, c + num, start);
                    continue;
                }
            }

            bool matched = false;
            foreach ((string sequence, JinjaTokenType type) in Rules)
            {
                if (sequence == "}}" && curlyDepth > 0)
                {
                    continue;
                }

                if (string.CompareOrdinal(src, pos, sequence, 0, sequence.Length) == 0 && pos + sequence.Length <= length)
                {
                    Add(type, sequence, pos);
                    if (type == JinjaTokenType.OpenExpression)
                    {
                        curlyDepth = 0;
                    }
                    else if (type == JinjaTokenType.OpenCurlyBracket)
                    {
                        curlyDepth++;
                    }
                    else if (type == JinjaTokenType.CloseCurlyBracket)
                    {
                        curlyDepth--;
                    }

                    pos += sequence.Length;
                    matched = true;
                    break;
                }
            }

            if (matched)
            {
                continue;
            }

            if (c is '\'' or '"')
            {
                int start = pos;
                pos++;
                string value = ConsumeString(src, ref pos, c, () => Error("a string literal is never closed", start));
                Add(JinjaTokenType.StringLiteral, value, start);
                pos++;
                continue;
            }

            if (IsDigit(c))
            {
                int start = pos;
                string num = ConsumeWhile(IsDigit);
                if (lastType != JinjaTokenType.Dot && pos + 1 < length && src[pos] == '.' && IsDigit(src[pos + 1]))
                {
                    pos++;
                    num = num + "." + ConsumeWhile(IsDigit);
                }

                Add(JinjaTokenType.NumericLiteral, num, start);
                continue;
            }

            if (JinjaText.IsWord(c))
            {
                int start = pos;
                Add(JinjaTokenType.Identifier, ConsumeWhile(JinjaText.IsWord), start);
                continue;
            }

            throw Error($"unexpected character '{c}'", pos);
        }

        return tokens;
    }

    private static bool IsDigit(char c) => c is >= '0' and <= '9';

    private static string ConsumeString(string src, ref int pos, char quote, Func<JinjaTemplateException> unterminated)
    {
        var text = new StringBuilder();
        while (true)
        {
            if (pos >= src.Length)
            {
                throw unterminated();
            }

            char c = src[pos];
            if (c == quote)
            {
                return text.ToString();
            }

            pos++;
            if (c != '\\')
            {
                text.Append(c);
                continue;
            }

            if (pos >= src.Length)
            {
                throw unterminated();
            }

            char escaped = src[pos++];
            if (escaped is 'x' or 'u')
            {
                int digits = escaped == 'x' ? 2 : 4;
                if (pos + digits > src.Length || !int.TryParse(src.AsSpan(pos, digits), System.Globalization.NumberStyles.AllowHexSpecifier, System.Globalization.CultureInfo.InvariantCulture, out int code))
                {
                    throw unterminated();
                }

                text.Append((char)code);
                pos += digits;
                continue;
            }

            text.Append(escaped switch
            {
                'n' => '\n',
                't' => '\t',
                'r' => '\r',
                'b' => '\b',
                'f' => '\f',
                'v' => '\v',
                '\'' => '\'',
                '"' => '"',
                '\\' => '\\',
                _ => throw new JinjaTemplateException($"unknown escape '\\{escaped}' in a string literal"),
            });
        }
    }

    /// <summary>
    /// The oracle's preprocessing, done on characters so that each keeps its original line: one trailing newline
    /// dropped; <c>lstrip_blocks</c> (spaces and tabs before <c>{%</c>/<c>{#</c> at a line start); <c>trim_blocks</c>
    /// (the newline after <c>%}</c>, <c>#}</c>, <c>-}</c>); transformers' <c>{% generation %}</c> tags removed.
    /// </summary>
    private static (string Text, int[] Lines) Preprocess(string template)
    {
        var chars = new List<char>(template.Length);
        var lines = new List<int>(template.Length);
        int line = 1;
        int count = template.EndsWith('\n') ? template.Length - 1 : template.Length;
        for (int i = 0; i < count; i++)
        {
            chars.Add(template[i]);
            lines.Add(line);
            if (template[i] == '\n')
            {
                line++;
            }
        }

        // lstrip_blocks: /^[ \t]*({[#%-])/gm
        var lstripped = new List<char>(chars.Count);
        var lstrippedLines = new List<int>(chars.Count);
        for (int i = 0; i < chars.Count; i++)
        {
            bool lineStart = i == 0 || chars[i - 1] is '\n' or '\r' or '\u2028' or '\u2029';
            if (lineStart)
            {
                int j = i;
                while (j < chars.Count && chars[j] is ' ' or '\t')
                {
                    j++;
                }

                if (j > i && j + 1 < chars.Count && chars[j] == '{' && chars[j + 1] is '#' or '%' or '-')
                {
                    i = j - 1;
                    continue;
                }
            }

            lstripped.Add(chars[i]);
            lstrippedLines.Add(lines[i]);
        }

        // trim_blocks: /([#%-]})\n/g
        var trimmed = new List<char>(lstripped.Count);
        var trimmedLines = new List<int>(lstripped.Count);
        for (int i = 0; i < lstripped.Count; i++)
        {
            trimmed.Add(lstripped[i]);
            trimmedLines.Add(lstrippedLines[i]);
            if (lstripped[i] is '#' or '%' or '-' && i + 2 < lstripped.Count && lstripped[i + 1] == '}' && lstripped[i + 2] == '\n')
            {
                trimmed.Add('}');
                trimmedLines.Add(lstrippedLines[i + 1]);
                i += 2;
            }
        }

        RemoveGenerationTags(trimmed, trimmedLines);
        return (new string([.. trimmed]), [.. trimmedLines]);
    }

    /// <summary>/{%(-?)\s*(?:end)?generation\s*(-?)%}(\s*)/ removed, honouring its <c>-</c> markers.</summary>
    private static void RemoveGenerationTags(List<char> chars, List<int> lines)
    {
        string text = new([.. chars]);
        int from = 0;
        while (true)
        {
            int start = text.IndexOf("{%", from, StringComparison.Ordinal);
            if (start < 0)
            {
                return;
            }

            int p = start + 2;
            bool lstrip = p < text.Length && text[p] == '-';
            if (lstrip)
            {
                p++;
            }

            while (p < text.Length && JinjaText.IsWhitespace(text[p]))
            {
                p++;
            }

            if (string.CompareOrdinal(text, p, "end", 0, 3) == 0)
            {
                p += 3;
            }

            if (string.CompareOrdinal(text, p, "generation", 0, 10) != 0)
            {
                from = start + 2;
                continue;
            }

            p += 10;
            while (p < text.Length && JinjaText.IsWhitespace(text[p]))
            {
                p++;
            }

            bool rstrip = p < text.Length && text[p] == '-';
            if (rstrip)
            {
                p++;
            }

            if (string.CompareOrdinal(text, p, "%}", 0, 2) != 0)
            {
                from = start + 2;
                continue;
            }

            p += 2;
            int afterEnd = p;
            while (afterEnd < text.Length && JinjaText.IsWhitespace(text[afterEnd]))
            {
                afterEnd++;
            }

            int removeFrom = start;
            while (lstrip && removeFrom > from && JinjaText.IsWhitespace(text[removeFrom - 1]))
            {
                removeFrom--;
            }

            int removeTo = rstrip ? afterEnd : p;
            chars.RemoveRange(removeFrom, removeTo - removeFrom);
            lines.RemoveRange(removeFrom, removeTo - removeFrom);
            text = new string([.. chars]);
            from = removeFrom + (rstrip ? 0 : afterEnd - p);
        }
    }
}
