using System.Text;

namespace LlmAspire.Inference.Tokenization.Jinja;

/// <summary>
/// A parsed Jinja chat template, rendered as <c>@huggingface/jinja</c> 0.5.13 renders it (with transformers'
/// <c>trim_blocks</c> and <c>lstrip_blocks</c>). Parse once when a model loads — an unknown statement, filter or test
/// fails there with its line — then render per request: the syntax tree is walked directly, without regular
/// expressions or reflection. Thread-safe: rendering keeps its state in its own scope.
/// </summary>
public sealed class JinjaTemplate
{
    private readonly List<JinjaStatement> _program;
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);

    private JinjaTemplate(string source, List<JinjaStatement> program)
    {
        Source = source;
        _program = program;
        foreach (JinjaStatement statement in program)
        {
            statement.Visit(node =>
            {
                if (node is JinjaIdentifier identifier)
                {
                    _names.Add(identifier.Name);
                }
            });
        }
    }

    /// <summary>The template text.</summary>
    public string Source { get; }

    /// <summary>Parses <paramref name="source"/>.</summary>
    /// <exception cref="JinjaTemplateException">A syntax error or a construct this interpreter does not implement (named, with its line).</exception>
    public static JinjaTemplate Parse(string source)
    {
        ArgumentNullException.ThrowIfNull(source);
        return new JinjaTemplate(source, JinjaParser.Parse(source));
    }

    /// <summary>Whether the template mentions the variable <paramref name="name"/> anywhere (e.g. <c>tools</c>).</summary>
    public bool ReadsVariable(string name) => _names.Contains(name);

    /// <summary>Renders with the variables of <paramref name="context"/>; <paramref name="clock"/> answers <c>strftime_now</c> (default: the system clock).</summary>
    /// <exception cref="JinjaRenderException">The template's <c>raise_exception</c>, or an operation the values do not allow.</exception>
    public string Render(IReadOnlyDictionary<string, JinjaValue> context, TimeProvider? clock = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        JinjaScope scope = JinjaGlobals.Create(clock ?? TimeProvider.System);
        foreach ((string name, JinjaValue value) in context)
        {
            scope.Set(name, value);
        }

        var output = new StringBuilder();
        foreach (JinjaStatement statement in _program)
        {
            if (statement.Render(output, scope) != JinjaFlow.Normal)
            {
                throw new JinjaRenderException("{% break %} or {% continue %} outside a loop");
            }
        }

        return output.ToString();
    }
}
