using LlmAspire.Inference.Tokenization;
using LlmAspire.Inference.Tokenization.Jinja;

namespace LlmAspire.Tests.Inference.Tokenization.Jinja;

/// <summary>Constructs the interpreter does not implement fail when the template loads, naming the construct and its line.</summary>
public sealed class JinjaLoadErrorTests
{
    [Theory]
    [InlineData("{% extends 'base.html' %}", "extends", 1)]
    [InlineData("hello\n{{ name | wordcount }}", "wordcount", 2)]
    [InlineData("a\nb\n{% if x %}\n{% macro m() %}{% endmacro %}\n{% endif %}", "macro", 4)]
    [InlineData("{{ x is divisibleby }}", "divisibleby", 1)]
    [InlineData("{% for m in messages %}\n{% include 'x' %}{% endfor %}", "include", 2)]
    [InlineData("{{ f(*args) }}", "unpacking", 1)]
    [InlineData("{% if x %}never closed", "endif", 1)]
    [InlineData("{{ 'unterminated }}", "never closed", 1)]
    public void Parse_UnsupportedConstruct_ThrowsNamingItAndItsLine(string template, string construct, int line)
    {
        var error = Assert.Throws<JinjaTemplateException>(() => JinjaTemplate.Parse(template));

        Assert.Contains(construct, error.Message, StringComparison.Ordinal);
        Assert.Equal(line, error.Line);
        Assert.StartsWith($"Chat template line {line}:", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ChatTemplateParse_UnknownFilter_IsANotSupportedException()
    {
        NotSupportedException error = Assert.ThrowsAny<NotSupportedException>(() => ChatTemplate.Parse("{% for m in messages %}{{ m.content | markdown }}{% endfor %}", "<s>", "</s>"));

        Assert.Contains("'markdown'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_RaiseException_IsAnArgumentExceptionWithTheTemplatesMessage()
    {
        JinjaTemplate template = JinjaTemplate.Parse("{% if messages | length == 0 %}{{ raise_exception('No messages!') }}{% endif %}ok");

        ArgumentException error = Assert.ThrowsAny<ArgumentException>(() => template.Render(new Dictionary<string, JinjaValue> { ["messages"] = JinjaValue.FromList([]) }));
        Assert.Equal("No messages!", error.Message);
        Assert.Equal("ok", template.Render(new Dictionary<string, JinjaValue> { ["messages"] = JinjaValue.FromList([JinjaValue.From("m")]) }));
    }

    [Fact]
    public void ReadsVariable_TellsWhetherTheTemplateMentionsTools()
    {
        Assert.True(JinjaTemplate.Parse("{% if tools is not none %}{{ tools | tojson }}{% endif %}").ReadsVariable("tools"));
        Assert.False(JinjaTemplate.Parse("{% for m in messages %}{{ m.tools }}{% endfor %}").ReadsVariable("tools"));
    }
}
