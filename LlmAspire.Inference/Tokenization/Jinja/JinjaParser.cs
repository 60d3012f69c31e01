using System.Globalization;

namespace LlmAspire.Inference.Tokenization.Jinja;

/// <summary>
/// Builds the syntax tree from tokens with <c>@huggingface/jinja</c>'s grammar and precedence (filters bind tighter
/// than unary minus and tests; <c>not</c> looser than comparisons; <c>a if c</c> without else is undefined when false).
/// Checks every statement, filter and test name against what the interpreter implements, so an unknown construct
/// fails when the template loads, with its line.
/// </summary>
internal sealed class JinjaParser
{
    private readonly List<JinjaToken> _tokens;
    private int _current;

    private JinjaParser(List<JinjaToken> tokens) => _tokens = tokens;

    /// <summary>The statements of <paramref name="template"/>.</summary>
    /// <exception cref="JinjaTemplateException">A syntax error or an unsupported construct.</exception>
    public static List<JinjaStatement> Parse(string template)
    {
        var parser = new JinjaParser(JinjaLexer.Tokenize(template));
        var program = new List<JinjaStatement>();
        while (parser._current < parser._tokens.Count)
        {
            if (parser.ParseAny() is { } statement)
            {
                program.Add(statement);
            }
        }

        return program;
    }

    private JinjaToken Peek(int offset = 0) => _current + offset < _tokens.Count
        ? _tokens[_current + offset]
        : new JinjaToken(JinjaTokenType.Text, string.Empty, _tokens.Count > 0 ? _tokens[^1].Line : 1);

    private bool AtEnd => _current >= _tokens.Count;

    private bool Is(JinjaTokenType type) => !AtEnd && _tokens[_current].Type == type;

    private bool IsIdentifier(string name, int offset = 0) =>
        _current + offset < _tokens.Count && _tokens[_current + offset].Type == JinjaTokenType.Identifier && _tokens[_current + offset].Value == name;

    private bool IsStatement(params string[] names) =>
        Is(JinjaTokenType.OpenStatement) && _current + 1 < _tokens.Count && _tokens[_current + 1].Type == JinjaTokenType.Identifier && names.Contains(_tokens[_current + 1].Value);

    private JinjaTemplateException Error(string message) => new(message, Peek().Line);

    private JinjaToken Expect(JinjaTokenType type, string what)
    {
        if (AtEnd)
        {
            throw new JinjaTemplateException($"expected {what} but the template ended", _tokens.Count > 0 ? _tokens[^1].Line : 1);
        }

        JinjaToken token = _tokens[_current];
        if (token.Type != type)
        {
            throw new JinjaTemplateException($"expected {what}, found '{token.Value}'", token.Line);
        }

        _current++;
        return token;
    }

    private void ExpectIdentifier(string name)
    {
        if (!IsIdentifier(name))
        {
            throw Error($"expected '{name}'");
        }

        _current++;
    }

    private void ExpectEnd(string name)
    {
        Expect(JinjaTokenType.OpenStatement, "{%");
        ExpectIdentifier(name);
        Expect(JinjaTokenType.CloseStatement, "%}");
    }

    private List<JinjaStatement> ParseBlockUntil(params string[] ends)
    {
        var block = new List<JinjaStatement>();
        while (!IsStatement(ends))
        {
            if (AtEnd)
            {
                throw new JinjaTemplateException($"the template ends inside a block: expected {{% {string.Join(" or ", ends)} %}}", _tokens.Count > 0 ? _tokens[^1].Line : 1);
            }

            if (ParseAny() is { } statement)
            {
                block.Add(statement);
            }
        }

        return block;
    }

    private JinjaStatement? ParseAny()
    {
        JinjaToken token = _tokens[_current];
        switch (token.Type)
        {
            case JinjaTokenType.Comment:
                _current++;
                return null;
            case JinjaTokenType.Text:
                _current++;
                return new JinjaTextStatement(token.Value, token.Line);
            case JinjaTokenType.OpenStatement:
                return ParseStatement();
            case JinjaTokenType.OpenExpression:
                _current++;
                JinjaExpression expression = ParseExpression();
                Expect(JinjaTokenType.CloseExpression, "}}");
                return expression;
            default:
                throw new JinjaTemplateException($"unexpected '{token.Value}'", token.Line);
        }
    }

    private JinjaStatement ParseStatement()
    {
        Expect(JinjaTokenType.OpenStatement, "{%");
        JinjaToken name = Peek();
        if (name.Type != JinjaTokenType.Identifier)
        {
            throw new JinjaTemplateException($"expected a statement name after {{%, found '{name.Value}'", name.Line);
        }

        _current++;
        switch (name.Value)
        {
            case "set":
                return ParseSet(name.Line);
            case "if":
                JinjaIf conditional = ParseIf(name.Line);
                ExpectEnd("endif");
                return conditional;
            case "for":
                JinjaFor loop = ParseFor(name.Line);
                ExpectEnd("endfor");
                return loop;
            case "break":
            case "continue":
                Expect(JinjaTokenType.CloseStatement, "%}");
                return new JinjaLoopControl(name.Value == "break" ? JinjaFlow.Break : JinjaFlow.Continue, name.Line);
            default:
                throw new JinjaTemplateException($"the statement {{% {name.Value} %}} is not supported", name.Line);
        }
    }

    private JinjaSet ParseSet(int line)
    {
        JinjaExpression target = ParseExpressionSequence(primary: false);
        switch (target)
        {
            case JinjaIdentifier:
            case JinjaMember { Name.Kind: JinjaValueKind.String }:
            case JinjaListLiteral { IsTuple: true } tuple when tuple.Items.All(static item => item is JinjaIdentifier):
                break;
            default:
                throw new JinjaTemplateException("set assigns to a name, names, or a namespace attribute", line);
        }

        if (Is(JinjaTokenType.Equals))
        {
            _current++;
            JinjaExpression value = ParseExpressionSequence(primary: false);
            Expect(JinjaTokenType.CloseStatement, "%}");
            return new JinjaSet(target, value, [], line);
        }

        Expect(JinjaTokenType.CloseStatement, "%}");
        List<JinjaStatement> body = ParseBlockUntil("endset");
        ExpectEnd("endset");
        return new JinjaSet(target, null, body, line);
    }

    private JinjaIf ParseIf(int line)
    {
        JinjaExpression test = ParseExpression();
        Expect(JinjaTokenType.CloseStatement, "%}");
        List<JinjaStatement> body = ParseBlockUntil("elif", "else", "endif");
        var alternate = new List<JinjaStatement>();
        if (IsStatement("elif"))
        {
            int elifLine = Peek(1).Line;
            _current += 2;
            alternate.Add(ParseIf(elifLine));
        }
        else if (IsStatement("else"))
        {
            _current += 2;
            Expect(JinjaTokenType.CloseStatement, "%}");
            alternate = ParseBlockUntil("endif");
        }

        return new JinjaIf(test, body, alternate, line);
    }

    private JinjaFor ParseFor(int line)
    {
        JinjaExpression variable = ParseExpressionSequence(primary: true);
        List<string> targets = variable switch
        {
            JinjaIdentifier identifier => [identifier.Name],
            JinjaListLiteral { IsTuple: true } tuple when tuple.Items.All(static item => item is JinjaIdentifier) => [.. tuple.Items.Cast<JinjaIdentifier>().Select(static item => item.Name)],
            _ => throw new JinjaTemplateException("expected a name or names for the loop variable", line),
        };
        if (!IsIdentifier("in"))
        {
            throw Error("expected 'in' after the loop variable");
        }

        _current++;
        JinjaExpression iterable = ParseExpression();
        JinjaExpression? filter = null;
        if (iterable is JinjaConditional { WhenFalse: null } selection)
        {
            iterable = selection.WhenTrue;
            filter = selection.Condition;
        }

        Expect(JinjaTokenType.CloseStatement, "%}");
        List<JinjaStatement> body = ParseBlockUntil("endfor", "else");
        List<JinjaStatement> otherwise = [];
        if (IsStatement("else"))
        {
            _current += 2;
            Expect(JinjaTokenType.CloseStatement, "%}");
            otherwise = ParseBlockUntil("endfor");
        }

        return new JinjaFor(targets, variable is JinjaListLiteral, iterable, filter, body, otherwise, line);
    }

    private JinjaExpression ParseExpressionSequence(bool primary)
    {
        int line = Peek().Line;
        var expressions = new List<JinjaExpression> { primary ? ParsePrimary() : ParseExpression() };
        bool isTuple = Is(JinjaTokenType.Comma);
        while (isTuple)
        {
            _current++;
            expressions.Add(primary ? ParsePrimary() : ParseExpression());
            if (!Is(JinjaTokenType.Comma))
            {
                break;
            }
        }

        return isTuple ? new JinjaListLiteral(expressions, tuple: true, line) : expressions[0];
    }

    private JinjaExpression ParseExpression() => ParseIfExpression();

    private JinjaExpression ParseIfExpression()
    {
        JinjaExpression a = ParseOr();
        if (IsIdentifier("if"))
        {
            int line = Peek().Line;
            _current++;
            JinjaExpression test = ParseOr();
            if (IsIdentifier("else"))
            {
                _current++;
                return new JinjaConditional(test, a, ParseIfExpression(), line);
            }

            return new JinjaConditional(test, a, null, line);
        }

        return a;
    }

    private JinjaExpression ParseOr()
    {
        JinjaExpression left = ParseAnd();
        while (IsIdentifier("or"))
        {
            int line = Peek().Line;
            _current++;
            left = new JinjaBinary("or", left, ParseAnd(), line);
        }

        return left;
    }

    private JinjaExpression ParseAnd()
    {
        JinjaExpression left = ParseNot();
        while (IsIdentifier("and"))
        {
            int line = Peek().Line;
            _current++;
            left = new JinjaBinary("and", left, ParseNot(), line);
        }

        return left;
    }

    private JinjaExpression ParseNot()
    {
        if (IsIdentifier("not"))
        {
            int line = Peek().Line;
            _current++;
            return new JinjaUnary("not", ParseNot(), line);
        }

        return ParseComparison();
    }

    private JinjaExpression ParseComparison()
    {
        JinjaExpression left = ParseAdditive();
        while (true)
        {
            int line = Peek().Line;
            string op;
            if (IsIdentifier("not") && IsIdentifier("in", 1))
            {
                op = "not in";
                _current += 2;
            }
            else if (IsIdentifier("in"))
            {
                op = "in";
                _current++;
            }
            else if (Is(JinjaTokenType.ComparisonBinaryOperator))
            {
                op = _tokens[_current++].Value;
            }
            else
            {
                return left;
            }

            left = new JinjaBinary(op, left, ParseAdditive(), line);
        }
    }

    private JinjaExpression ParseAdditive()
    {
        JinjaExpression left = ParseMultiplicative();
        while (Is(JinjaTokenType.AdditiveBinaryOperator))
        {
            JinjaToken op = _tokens[_current++];
            left = new JinjaBinary(op.Value, left, ParseMultiplicative(), op.Line);
        }

        return left;
    }

    private JinjaExpression ParseMultiplicative()
    {
        JinjaExpression left = ParsePower();
        while (Is(JinjaTokenType.MultiplicativeBinaryOperator))
        {
            JinjaToken op = _tokens[_current++];
            left = new JinjaBinary(op.Value, left, ParsePower(), op.Line);
        }

        return left;
    }

    private JinjaExpression ParsePower()
    {
        JinjaExpression left = ParseTest();
        while (Is(JinjaTokenType.ExponentiationBinaryOperator))
        {
            JinjaToken op = _tokens[_current++];
            left = new JinjaBinary(op.Value, left, ParseTest(), op.Line);
        }

        return left;
    }

    private JinjaExpression ParseTest()
    {
        JinjaExpression operand = ParseFilter();
        while (IsIdentifier("is"))
        {
            _current++;
            bool negate = IsIdentifier("not");
            if (negate)
            {
                _current++;
            }

            JinjaToken test = Peek();
            if (test.Type != JinjaTokenType.Identifier)
            {
                throw new JinjaTemplateException($"expected a test name after 'is', found '{test.Value}'", test.Line);
            }

            if (!JinjaFilters.TestNames.Contains(test.Value))
            {
                throw new JinjaTemplateException($"the test 'is {test.Value}' is not supported", test.Line);
            }

            _current++;
            operand = new JinjaTest(operand, test.Value, negate, test.Line);
        }

        return operand;
    }

    private JinjaExpression ParseFilter()
    {
        JinjaExpression operand = ParseUnarySign();
        while (Is(JinjaTokenType.Pipe))
        {
            _current++;
            JinjaToken filter = Peek();
            if (filter.Type != JinjaTokenType.Identifier)
            {
                throw new JinjaTemplateException($"expected a filter name after '|', found '{filter.Value}'", filter.Line);
            }

            if (!JinjaFilters.Names.Contains(filter.Value))
            {
                throw new JinjaTemplateException($"the filter '{filter.Value}' is not supported", filter.Line);
            }

            _current++;
            IReadOnlyList<JinjaArgument>? arguments = Is(JinjaTokenType.OpenParen) ? ParseArguments() : null;
            operand = new JinjaFilter(operand, filter.Value, arguments, filter.Line);
        }

        return operand;
    }

    private JinjaExpression ParseUnarySign()
    {
        JinjaToken token = Peek();
        if (!AtEnd && token.Type is JinjaTokenType.UnaryOperator or JinjaTokenType.AdditiveBinaryOperator && token.Value is "-" or "+")
        {
            _current++;
            return new JinjaUnary(token.Value, ParseUnarySign(), token.Line);
        }

        return ParseCallMember();
    }

    private JinjaExpression ParseCallMember()
    {
        JinjaExpression member = ParseMember(ParsePrimary());
        return Is(JinjaTokenType.OpenParen) ? ParseCall(member) : member;
    }

    private JinjaExpression ParseCall(JinjaExpression callee)
    {
        int line = Peek().Line;
        JinjaExpression expression = ParseMember(new JinjaCall(callee, ParseArguments(), line));
        return Is(JinjaTokenType.OpenParen) ? ParseCall(expression) : expression;
    }

    private List<JinjaArgument> ParseArguments()
    {
        Expect(JinjaTokenType.OpenParen, "(");
        var arguments = new List<JinjaArgument>();
        bool sawKeyword = false;
        while (!Is(JinjaTokenType.CloseParen))
        {
            if (AtEnd)
            {
                throw Error("an argument list is never closed");
            }

            if (Is(JinjaTokenType.ExponentiationBinaryOperator) || (Is(JinjaTokenType.MultiplicativeBinaryOperator) && Peek().Value == "*"))
            {
                throw Error("argument unpacking (* and **) is not supported");
            }

            JinjaExpression argument = ParseExpression();
            if (Is(JinjaTokenType.Equals))
            {
                _current++;
                if (argument is not JinjaIdentifier keyword)
                {
                    throw Error("expected a name for a keyword argument");
                }

                arguments.Add(new JinjaArgument(keyword.Name, ParseExpression()));
                sawKeyword = true;
            }
            else
            {
                if (sawKeyword)
                {
                    throw Error("positional arguments must come before keyword arguments");
                }

                arguments.Add(new JinjaArgument(null, argument));
            }

            if (Is(JinjaTokenType.Comma))
            {
                _current++;
            }
        }

        _current++;
        return arguments;
    }

    private JinjaExpression ParseMember(JinjaExpression target)
    {
        while (Is(JinjaTokenType.Dot) || Is(JinjaTokenType.OpenSquareBracket))
        {
            JinjaToken op = _tokens[_current++];
            if (op.Type == JinjaTokenType.OpenSquareBracket)
            {
                var parts = new List<JinjaExpression?>();
                bool isSlice = false;
                while (!Is(JinjaTokenType.CloseSquareBracket))
                {
                    if (AtEnd)
                    {
                        throw Error("a subscript is never closed with ]");
                    }

                    if (Is(JinjaTokenType.Colon))
                    {
                        parts.Add(null);
                        _current++;
                        isSlice = true;
                    }
                    else
                    {
                        parts.Add(ParseExpression());
                        if (Is(JinjaTokenType.Colon))
                        {
                            _current++;
                            isSlice = true;
                        }
                    }
                }

                Expect(JinjaTokenType.CloseSquareBracket, "]");
                if (parts.Count == 0)
                {
                    throw new JinjaTemplateException("expected an index or slice inside []", op.Line);
                }

                if (isSlice)
                {
                    if (parts.Count > 3)
                    {
                        throw new JinjaTemplateException("a slice has at most 3 parts", op.Line);
                    }

                    while (parts.Count < 3)
                    {
                        parts.Add(null);
                    }

                    target = new JinjaMember(target, null, null, [.. parts], op.Line);
                }
                else
                {
                    target = new JinjaMember(target, parts[0], null, null, op.Line);
                }
            }
            else
            {
                JinjaExpression property = ParsePrimary();
                JinjaValue name = property switch
                {
                    JinjaIdentifier identifier => JinjaValue.From(identifier.Name),
                    JinjaLiteral { Value.Kind: JinjaValueKind.Integer } integer => integer.Value,
                    _ => throw new JinjaTemplateException("expected a name or integer after '.'", op.Line),
                };
                target = new JinjaMember(target, null, name, null, op.Line);
            }
        }

        return target;
    }

    private JinjaExpression ParsePrimary()
    {
        if (AtEnd)
        {
            throw new JinjaTemplateException("the template ends inside an expression", _tokens.Count > 0 ? _tokens[^1].Line : 1);
        }

        JinjaToken token = _tokens[_current++];
        switch (token.Type)
        {
            case JinjaTokenType.NumericLiteral:
                double number = double.Parse(token.Value, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture);
                return new JinjaLiteral(token.Value.Contains('.', StringComparison.Ordinal) ? JinjaValue.FromFloat(number) : JinjaValue.FromInteger(number), token.Line);
            case JinjaTokenType.StringLiteral:
                string value = token.Value;
                while (Is(JinjaTokenType.StringLiteral))
                {
                    value += _tokens[_current++].Value;
                }

                return new JinjaLiteral(JinjaValue.From(value), token.Line);
            case JinjaTokenType.Identifier:
                return new JinjaIdentifier(token.Value, token.Line);
            case JinjaTokenType.OpenParen:
                JinjaExpression inner = ParseExpressionSequence(primary: false);
                Expect(JinjaTokenType.CloseParen, ")");
                return inner;
            case JinjaTokenType.OpenSquareBracket:
                var items = new List<JinjaExpression>();
                while (!Is(JinjaTokenType.CloseSquareBracket))
                {
                    if (AtEnd)
                    {
                        throw new JinjaTemplateException("a list is never closed with ]", token.Line);
                    }

                    items.Add(ParseExpression());
                    if (Is(JinjaTokenType.Comma))
                    {
                        _current++;
                    }
                }

                _current++;
                return new JinjaListLiteral(items, tuple: false, token.Line);
            case JinjaTokenType.OpenCurlyBracket:
                var entries = new List<(JinjaExpression, JinjaExpression)>();
                while (!Is(JinjaTokenType.CloseCurlyBracket))
                {
                    if (AtEnd)
                    {
                        throw new JinjaTemplateException("a mapping is never closed with }", token.Line);
                    }

                    JinjaExpression key = ParseExpression();
                    Expect(JinjaTokenType.Colon, ":");
                    entries.Add((key, ParseExpression()));
                    if (Is(JinjaTokenType.Comma))
                    {
                        _current++;
                    }
                }

                _current++;
                return new JinjaObjectLiteral(entries, token.Line);
            default:
                throw new JinjaTemplateException($"unexpected '{token.Value}'", token.Line);
        }
    }
}
