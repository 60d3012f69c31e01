namespace LlmAspire.Inference.Tokenization.Jinja;

/// <summary>The kinds of value a chat template computes with (those of <c>@huggingface/jinja</c>'s runtime).</summary>
public enum JinjaValueKind
{
    /// <summary>A name or key that is not there; prints as nothing, is falsy.</summary>
    Undefined,

    /// <summary><c>none</c>.</summary>
    Null,

    /// <summary><c>true</c> or <c>false</c>.</summary>
    Boolean,

    /// <summary>A whole number.</summary>
    Integer,

    /// <summary>A number with a fraction part (or written with a point).</summary>
    Float,

    /// <summary>Text.</summary>
    String,

    /// <summary>A list (or a tuple).</summary>
    Array,

    /// <summary>A mapping with string keys, in insertion order.</summary>
    Object,

    /// <summary>What <c>namespace()</c> returns: attributes that <c>set ns.x = …</c> may change.</summary>
    Namespace,

    /// <summary>A callable (<c>raise_exception</c>, <c>range</c>, a string's <c>upper</c>, …).</summary>
    Function,
}
