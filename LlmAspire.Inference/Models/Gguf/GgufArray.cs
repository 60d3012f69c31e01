namespace LlmAspire.Inference.Models.Gguf;

/// <summary>
/// A GGUF array value: its element type and the elements as a typed CLR array (<c>string[]</c>, <c>float[]</c>,
/// <c>int[]</c>, ..., or <see cref="GgufArray"/>[] for arrays of arrays).
/// </summary>
/// <param name="ElementType">The elements' type tag.</param>
/// <param name="Values">The elements.</param>
public sealed record GgufArray(GgufValueType ElementType, Array Values)
{
    /// <summary>Number of elements.</summary>
    public int Length => Values.Length;
}
