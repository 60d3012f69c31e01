using System.Globalization;
using System.Text;

namespace LlmAspire.Inference.Constraints;

/// <summary>
/// Regular expressions (the common subset of ECMAScript, .NET and Python) to grammar expressions, matched against
/// the whole text: literals and escapes (<c>\d \w \s \D \W \S \n \t \r \f \v \0 \xHH \uHHHH \u{H…}</c>), classes
/// with ranges and negation, <c>.</c> (any character but a line break), groups (capturing, <c>(?:…)</c>, named),
/// alternation and the quantifiers <c>* + ? {n} {n,} {n,m}</c> (lazy forms match the same language). A leading
/// <c>^</c> and trailing <c>$</c> are accepted. Backreferences, lookaround, word boundaries and inline flags are
/// refused with a <see cref="GrammarException"/> that names them.
/// </summary>
public static class RegexParser
{
    /// <summary>Largest count a quantifier may name.</summary>
    public const int MaxRepeat = 10_000;

    private static readonly CharSetExpression Digit = CharSetExpression.FromRanges([('0', '9')]);
    private static readonly CharSetExpression Word = CharSetExpression.FromRanges([('0', '9'), ('A', 'Z'), ('a', 'z'), ('_', '_')]);
    private static readonly CharSetExpression Space = CharSetExpression.FromRanges([('\t', '\r'), (' ', ' '), (0xA0, 0xA0), (0x1680, 0x1680), (0x2000, 0x200A), (0x2028, 0x2029), (0x202F, 0x202F), (0x205F, 0x205F), (0x3000, 0x3000), (0xFEFF, 0xFEFF)]);
    private static readonly CharSetExpression Dot = CharSetExpression.FromRanges([('\n', '\n'), ('\r', '\r'), (0x2028, 0x2029)]).Complement();

    /// <summary>Parses <paramref name="pattern"/>; the expression matches exactly the texts the pattern fully matches.</summary>
    public static GrammarExpression Parse(string pattern) => Parse(pattern, anchored: true);

    /// <summary>
    /// Parses <paramref name="pattern"/>. With <paramref name="anchored"/> false (JSON Schema's <c>pattern</c>, which
    /// searches), a side without its anchor matches any text there.
    /// </summary>
    public static GrammarExpression Parse(string pattern, bool anchored)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        var parser = new Parser(pattern);
        bool starts = parser.TryEat('^');
        GrammarExpression body = parser.ParseAlternation();
        bool ends = parser.TryEat('$');
        if (!parser.AtEnd)
        {
            throw parser.Error(parser.Peek() == ')' ? "an unmatched ')'" : $"'{parser.Peek()}' where it cannot stand");
        }

        GrammarExpression anything = GrammarExpression.Repeat(CharSetExpression.Any, 0, null);
        return GrammarExpression.Sequence(
            anchored || starts ? GrammarExpression.Empty : anything,
            body,
            anchored || ends ? GrammarExpression.Empty : anything);
    }

    private sealed class Parser(string pattern)
    {
        private int _pos;

        public bool AtEnd => _pos >= pattern.Length;

        public char Peek() => pattern[_pos];

        public bool TryEat(char c)
        {
            if (!AtEnd && pattern[_pos] == c)
            {
                _pos++;
                return true;
            }

            return false;
        }

        public GrammarException Error(string what) =>
            new($"The regular expression /{pattern}/ has {what} at position {_pos}.");

        public GrammarExpression ParseAlternation()
        {
            var alternatives = new List<GrammarExpression> { ParseSequence() };
            while (TryEat('|'))
            {
                alternatives.Add(ParseSequence());
            }

            return GrammarExpression.Choice(alternatives);
        }

        private GrammarExpression ParseSequence()
        {
            var items = new List<GrammarExpression>();
            while (!AtEnd && Peek() != '|' && Peek() != ')')
            {
                if (Peek() == '$' && _pos == pattern.Length - 1)
                {
                    break; // the trailing anchor
                }

                items.Add(ParseQuantified());
            }

            return GrammarExpression.Sequence(items);
        }

        private GrammarExpression ParseQuantified()
        {
            GrammarExpression atom = ParseAtom();
            while (!AtEnd)
            {
                int min, max;
                char c = Peek();
                if (c == '*')
                {
                    (min, max) = (0, -1);
                    _pos++;
                }
                else if (c == '+')
                {
                    (min, max) = (1, -1);
                    _pos++;
                }
                else if (c == '?')
                {
                    (min, max) = (0, 1);
                    _pos++;
                }
                else if (c == '{' && TryParseBraces(out min, out max))
                {
                }
                else
                {
                    break;
                }

                TryEat('?'); // lazy: same language
                if (!AtEnd && Peek() == '+')
                {
                    throw Error("a possessive quantifier, which is not supported");
                }

                atom = GrammarExpression.Repeat(atom, min, max < 0 ? null : max);
            }

            return atom;
        }

        private bool TryParseBraces(out int min, out int max)
        {
            int start = _pos;
            min = max = 0;
            _pos++;
            int? a = ReadNumber();
            if (a is null)
            {
                _pos = start;
                return false; // a literal '{', as ECMAScript allows
            }

            min = a.Value;
            if (TryEat('}'))
            {
                max = min;
            }
            else if (TryEat(','))
            {
                int? b = ReadNumber();
                max = b ?? -1;
                if (!TryEat('}'))
                {
                    _pos = start;
                    return false;
                }
            }
            else
            {
                _pos = start;
                return false;
            }

            if (min > MaxRepeat || max > MaxRepeat)
            {
                throw Error($"a repetition count above {MaxRepeat}");
            }

            if (max >= 0 && max < min)
            {
                throw Error($"the repetition {{{min},{max}}} whose maximum is below its minimum");
            }

            return true;
        }

        private int? ReadNumber()
        {
            int start = _pos;
            while (!AtEnd && char.IsAsciiDigit(Peek()))
            {
                _pos++;
            }

            if (_pos == start)
            {
                return null;
            }

            return int.TryParse(pattern.AsSpan(start, _pos - start), NumberStyles.None, CultureInfo.InvariantCulture, out int n) ? n : int.MaxValue;
        }

        private GrammarExpression ParseAtom()
        {
            char c = Peek();
            switch (c)
            {
                case '(':
                    _pos++;
                    if (TryEat('?'))
                    {
                        if (TryEat(':'))
                        {
                        }
                        else if (TryEat('<') || TryEat('P') && TryEat('<'))
                        {
                            if (!AtEnd && (Peek() == '=' || Peek() == '!'))
                            {
                                throw Error("a lookbehind, which is not supported");
                            }

                            while (!AtEnd && Peek() != '>')
                            {
                                _pos++;
                            }

                            if (!TryEat('>'))
                            {
                                throw Error("an unterminated group name");
                            }
                        }
                        else if (!AtEnd && (Peek() == '=' || Peek() == '!'))
                        {
                            throw Error("a lookahead, which is not supported");
                        }
                        else
                        {
                            throw Error("an inline flag or group kind that is not supported");
                        }
                    }

                    GrammarExpression inner = ParseAlternation();
                    if (!TryEat(')'))
                    {
                        throw Error("an unterminated group");
                    }

                    return inner;
                case '[':
                    _pos++;
                    return ParseClass();
                case '.':
                    _pos++;
                    return Dot;
                case '\\':
                    _pos++;
                    return ParseEscape(inClass: false);
                case '*' or '+' or '?':
                    throw Error($"a quantifier '{c}' with nothing to repeat");
                case '^':
                    throw Error("'^' inside the pattern (only a leading anchor is supported)");
                case '$':
                    throw Error("'$' inside the pattern (only a trailing anchor is supported)");
                default:
                    var rune = Rune.GetRuneAt(pattern, _pos);
                    _pos += rune.Utf16SequenceLength;
                    return CharSetExpression.Of(rune.Value);
            }
        }

        private CharSetExpression ParseClass()
        {
            bool negate = TryEat('^');
            var parts = new List<CharSetExpression>();
            bool first = true;
            while (true)
            {
                if (AtEnd)
                {
                    throw Error("an unterminated character class");
                }

                if (Peek() == ']' && !first)
                {
                    _pos++;
                    break;
                }

                first = false;
                CharSetExpression low = ClassAtom();
                if (!AtEnd && Peek() == '-' && _pos + 1 < pattern.Length && pattern[_pos + 1] != ']')
                {
                    _pos++;
                    CharSetExpression high = ClassAtom();
                    if (low.Ranges is not [var l] || l.First != l.Last || high.Ranges is not [var h] || h.First != h.Last)
                    {
                        throw Error("a range whose end is a class");
                    }

                    if (h.First < l.First)
                    {
                        throw Error("a range out of order");
                    }

                    parts.Add(CharSetExpression.FromRanges([(l.First, h.First)]));
                }
                else
                {
                    parts.Add(low);
                }
            }

            CharSetExpression set = CharSetExpression.Union(parts);
            return negate ? set.Complement() : set;
        }

        private CharSetExpression ClassAtom()
        {
            if (TryEat('\\'))
            {
                return ParseEscape(inClass: true);
            }

            var rune = Rune.GetRuneAt(pattern, _pos);
            _pos += rune.Utf16SequenceLength;
            return CharSetExpression.Of(rune.Value);
        }

        private CharSetExpression ParseEscape(bool inClass)
        {
            if (AtEnd)
            {
                throw Error("a trailing backslash");
            }

            char c = pattern[_pos++];
            switch (c)
            {
                case 'd': return Digit;
                case 'D': return Digit.Complement();
                case 'w': return Word;
                case 'W': return Word.Complement();
                case 's': return Space;
                case 'S': return Space.Complement();
                case 'n': return CharSetExpression.Of('\n');
                case 't': return CharSetExpression.Of('\t');
                case 'r': return CharSetExpression.Of('\r');
                case 'f': return CharSetExpression.Of('\f');
                case 'v': return CharSetExpression.Of('\v');
                case '0': return CharSetExpression.Of(0);
                case 'b' when inClass: return CharSetExpression.Of('\b');
                case 'x': return CharSetExpression.Of(Hex(2));
                case 'u':
                    if (TryEat('{'))
                    {
                        int start = _pos;
                        while (!AtEnd && Peek() != '}')
                        {
                            _pos++;
                        }

                        if (!int.TryParse(pattern.AsSpan(start, _pos - start), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out int cp) || !TryEat('}') || cp > CharSetExpression.MaxCodePoint)
                        {
                            throw Error("a bad \\u{…} escape");
                        }

                        return CharSetExpression.Of(cp);
                    }

                    int unit = Hex(4);
                    if (char.IsHighSurrogate((char)unit) && _pos + 6 <= pattern.Length && pattern[_pos] == '\\' && pattern[_pos + 1] == 'u')
                    {
                        _pos += 2;
                        int low = Hex(4);
                        return CharSetExpression.Of(char.ConvertToUtf32((char)unit, (char)low));
                    }

                    return CharSetExpression.Of(unit);
                case 'b' or 'B':
                    throw Error("a word boundary, which is not supported");
                case >= '1' and <= '9':
                    throw Error("a backreference, which is not supported");
                case 'k':
                    throw Error("a named backreference, which is not supported");
                case 'p' or 'P':
                    throw Error("a Unicode property class, which is not supported");
                default:
                    if (char.IsAsciiLetterOrDigit(c))
                    {
                        throw Error($"the unknown escape '\\{c}'");
                    }

                    return CharSetExpression.Of(c);
            }
        }

        private int Hex(int digits)
        {
            if (_pos + digits > pattern.Length || !int.TryParse(pattern.AsSpan(_pos, digits), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out int value))
            {
                throw Error("a bad hexadecimal escape");
            }

            _pos += digits;
            return value;
        }
    }
}
