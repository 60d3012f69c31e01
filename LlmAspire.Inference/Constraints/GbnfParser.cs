using System.Globalization;
using System.Text;

namespace LlmAspire.Inference.Constraints;

/// <summary>
/// GBNF, llama.cpp's grammar format: <c>name ::= body</c> rules (the rule <c>root</c> starts), string literals with
/// <c>\n \r \t \\ \" \xHH \uHHHH \UHHHHHHHH</c> escapes, character classes <c>[a-z]</c> and <c>[^…]</c>, <c>.</c> for
/// any character, grouping, <c>|</c>, and the postfix <c>* + ? {m} {m,} {m,n}</c>; <c>#</c> comments. A rule may
/// span lines; the next rule starts where a name is followed by <c>::=</c>.
/// </summary>
public static class GbnfParser
{
    /// <summary>Parses <paramref name="text"/> into a grammar.</summary>
    public static Grammar Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parser = new Parser(text);
        var rules = new Dictionary<string, GrammarExpression>(StringComparer.Ordinal);
        parser.SkipSpace();
        while (!parser.AtEnd)
        {
            string name = parser.ReadName() ?? throw parser.Error("a rule name expected");
            parser.SkipSpace();
            if (!parser.TryEat("::="))
            {
                throw parser.Error($"'::=' expected after the rule name '{name}'");
            }

            if (rules.ContainsKey(name))
            {
                throw parser.Error($"the rule '{name}' defined twice");
            }

            rules[name] = parser.ParseAlternation();
            parser.SkipSpace();
        }

        if (rules.Count == 0)
        {
            throw new GrammarException("The grammar is empty: it needs at least the rule 'root ::= …'.");
        }

        return new Grammar(rules);
    }

    private sealed class Parser(string text)
    {
        private int _pos;

        public bool AtEnd => _pos >= text.Length;

        public GrammarException Error(string what)
        {
            int line = 1, column = 1;
            for (int i = 0; i < _pos && i < text.Length; i++)
            {
                if (text[i] == '\n')
                {
                    line++;
                    column = 1;
                }
                else
                {
                    column++;
                }
            }

            return new GrammarException($"The grammar has {what} at line {line}, column {column}.");
        }

        public void SkipSpace()
        {
            while (!AtEnd)
            {
                char c = text[_pos];
                if (c == '#')
                {
                    while (!AtEnd && text[_pos] != '\n')
                    {
                        _pos++;
                    }
                }
                else if (char.IsWhiteSpace(c))
                {
                    _pos++;
                }
                else
                {
                    break;
                }
            }
        }

        public bool TryEat(string s)
        {
            if (string.CompareOrdinal(text, _pos, s, 0, s.Length) == 0)
            {
                _pos += s.Length;
                return true;
            }

            return false;
        }

        public string? ReadName()
        {
            int start = _pos;
            while (!AtEnd && (char.IsAsciiLetterOrDigit(text[_pos]) || text[_pos] is '-' or '_'))
            {
                _pos++;
            }

            return _pos > start ? text[start.._pos] : null;
        }

        public GrammarExpression ParseAlternation()
        {
            var alternatives = new List<GrammarExpression> { ParseSequence() };
            while (true)
            {
                SkipSpace();
                if (!TryEat("|"))
                {
                    break;
                }

                alternatives.Add(ParseSequence());
            }

            return GrammarExpression.Choice(alternatives);
        }

        private bool AtRuleStart()
        {
            int save = _pos;
            bool isRule = ReadName() is not null && SkipSpaceAnd("::=");
            _pos = save;
            return isRule;
        }

        private bool SkipSpaceAnd(string s)
        {
            SkipSpace();
            return TryEat(s);
        }

        private GrammarExpression ParseSequence()
        {
            var items = new List<GrammarExpression>();
            while (true)
            {
                SkipSpace();
                if (AtEnd || text[_pos] is '|' or ')' || AtRuleStart())
                {
                    break;
                }

                GrammarExpression item = ParseAtom();
                while (!AtEnd)
                {
                    char c = text[_pos];
                    if (c == '*')
                    {
                        item = GrammarExpression.Repeat(item, 0, null);
                    }
                    else if (c == '+')
                    {
                        item = GrammarExpression.Repeat(item, 1, null);
                    }
                    else if (c == '?')
                    {
                        item = GrammarExpression.Repeat(item, 0, 1);
                    }
                    else if (c == '{')
                    {
                        item = ParseBraces(item);
                        continue;
                    }
                    else
                    {
                        break;
                    }

                    _pos++;
                }

                items.Add(item);
            }

            return GrammarExpression.Sequence(items);
        }

        private GrammarExpression ParseBraces(GrammarExpression item)
        {
            _pos++;
            SkipSpace();
            int min = ReadCount() ?? throw Error("a number expected in '{…}'");
            int? max = min;
            SkipSpace();
            if (TryEat(","))
            {
                SkipSpace();
                max = ReadCount();
                SkipSpace();
            }

            if (!TryEat("}"))
            {
                throw Error("'}' expected");
            }

            if (max < min)
            {
                throw Error($"the repetition {{{min},{max}}} whose maximum is below its minimum");
            }

            return GrammarExpression.Repeat(item, min, max);
        }

        private int? ReadCount()
        {
            int start = _pos;
            while (!AtEnd && char.IsAsciiDigit(text[_pos]))
            {
                _pos++;
            }

            if (_pos == start)
            {
                return null;
            }

            if (!int.TryParse(text.AsSpan(start, _pos - start), NumberStyles.None, CultureInfo.InvariantCulture, out int n) || n > RegexParser.MaxRepeat)
            {
                throw Error($"a repetition count above {RegexParser.MaxRepeat}");
            }

            return n;
        }

        private GrammarExpression ParseAtom()
        {
            char c = text[_pos];
            if (c == '"')
            {
                _pos++;
                var runes = new List<GrammarExpression>();
                while (true)
                {
                    if (AtEnd || text[_pos] == '\n')
                    {
                        throw Error("an unterminated string");
                    }

                    if (text[_pos] == '"')
                    {
                        _pos++;
                        break;
                    }

                    runes.Add(CharSetExpression.Of(ReadChar()));
                }

                return GrammarExpression.Sequence(runes);
            }

            if (c == '[')
            {
                _pos++;
                bool negate = TryEat("^");
                var ranges = new List<(int, int)>();
                while (true)
                {
                    if (AtEnd)
                    {
                        throw Error("an unterminated character class");
                    }

                    if (text[_pos] == ']')
                    {
                        _pos++;
                        break;
                    }

                    int low = ReadChar();
                    int high = low;
                    if (_pos + 1 < text.Length && text[_pos] == '-' && text[_pos + 1] != ']')
                    {
                        _pos++;
                        high = ReadChar();
                        if (high < low)
                        {
                            throw Error("a range out of order");
                        }
                    }

                    ranges.Add((low, high));
                }

                CharSetExpression set = CharSetExpression.FromRanges(ranges);
                return negate ? set.Complement() : set;
            }

            if (c == '.')
            {
                _pos++;
                return CharSetExpression.Any;
            }

            if (c == '(')
            {
                _pos++;
                GrammarExpression inner = ParseAlternation();
                SkipSpace();
                if (!TryEat(")"))
                {
                    throw Error("')' expected");
                }

                return inner;
            }

            string? name = ReadName();
            if (name is null)
            {
                throw Error($"the unexpected character '{c}'");
            }

            return GrammarExpression.Rule(name);
        }

        private int ReadChar()
        {
            if (text[_pos] != '\\')
            {
                var rune = Rune.GetRuneAt(text, _pos);
                _pos += rune.Utf16SequenceLength;
                return rune.Value;
            }

            _pos++;
            if (AtEnd)
            {
                throw Error("a trailing backslash");
            }

            char c = text[_pos++];
            return c switch
            {
                'n' => '\n',
                'r' => '\r',
                't' => '\t',
                '\\' or '"' or '[' or ']' or '-' or '^' or '/' => c,
                'x' => Hex(2),
                'u' => Hex(4),
                'U' => Hex(8),
                _ => throw Error($"the unknown escape '\\{c}'"),
            };
        }

        private int Hex(int digits)
        {
            if (_pos + digits > text.Length
                || !int.TryParse(text.AsSpan(_pos, digits), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out int value)
                || value > CharSetExpression.MaxCodePoint)
            {
                throw Error("a bad hexadecimal escape");
            }

            _pos += digits;
            return value;
        }
    }
}
