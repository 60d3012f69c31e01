namespace LlmAspire.Inference.Tokenization.Jinja;

/// <summary>The tokens of the template language (those of <c>@huggingface/jinja</c>'s lexer).</summary>
internal enum JinjaTokenType
{
    Text,
    NumericLiteral,
    StringLiteral,
    Identifier,
    Equals,
    OpenParen,
    CloseParen,
    OpenStatement,
    CloseStatement,
    OpenExpression,
    CloseExpression,
    OpenSquareBracket,
    CloseSquareBracket,
    OpenCurlyBracket,
    CloseCurlyBracket,
    Comma,
    Dot,
    Colon,
    Pipe,
    AdditiveBinaryOperator,
    MultiplicativeBinaryOperator,
    ExponentiationBinaryOperator,
    ComparisonBinaryOperator,
    UnaryOperator,
    Comment,
}

/// <summary>One token, with the 1-based template line it starts on.</summary>
internal readonly record struct JinjaToken(JinjaTokenType Type, string Value, int Line);
