namespace LlmAspire.Inference.Tokenization.Jinja;

/// <summary>Variables of one scope (the template's, or one for loop's), falling back to the enclosing scope.</summary>
internal sealed class JinjaScope(JinjaScope? parent)
{
    private readonly Dictionary<string, JinjaValue> _variables = new(StringComparer.Ordinal);

    /// <summary>The value of <paramref name="name"/> here or in an enclosing scope, or undefined.</summary>
    public JinjaValue Lookup(string name)
    {
        for (JinjaScope? scope = this; scope is not null; scope = scope.Parent)
        {
            if (scope._variables.TryGetValue(name, out JinjaValue? value))
            {
                return value;
            }
        }

        return JinjaValue.Undefined;
    }

    /// <summary>Sets <paramref name="name"/> in this scope (Jinja's <c>set</c>: a loop's sets stay in the loop).</summary>
    public void Set(string name, JinjaValue value) => _variables[name] = value;

    /// <summary>The enclosing scope.</summary>
    public JinjaScope? Parent { get; } = parent;
}
