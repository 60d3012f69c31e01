namespace LlmAspire.Inference.Tokenization.Jinja;

/// <summary>How rendering a statement ends: normally, or by <c>{% break %}</c> or <c>{% continue %}</c> for the enclosing loop.</summary>
internal enum JinjaFlow
{
    Normal,
    Break,
    Continue,
}
