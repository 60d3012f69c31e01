namespace LlmAspire.Inference.Models.Gguf;

/// <summary>
/// One entry of a GGUF tensor table. <paramref name="Dimensions"/> are ggml's <c>ne</c>, innermost first: a linear
/// layer of PyTorch shape [out, in] is stored as [in, out], its bytes row-major [out][in] as PyTorch has them.
/// </summary>
/// <param name="Name">The tensor's name, e.g. <c>blk.0.attn_q.weight</c>.</param>
/// <param name="Dimensions">ne[0], ne[1], ... (innermost first).</param>
/// <param name="Type">The element type.</param>
/// <param name="Offset">Byte offset from the start of the data section.</param>
public sealed record GgufTensorInfo(string Name, long[] Dimensions, GgmlType Type, long Offset)
{
    /// <summary>Number of values.</summary>
    public long ElementCount => Dimensions.Aggregate(1L, (product, d) => product * d);

    /// <summary>Bytes in the file, or null when the reader does not know the type's block size.</summary>
    public long? ByteSize => GgmlTypes.BlockOf(Type) is var (values, bytes) ? ElementCount / values * bytes : null;

    /// <summary>The shape as GGUF tools print it, e.g. <c>[64, 512]</c>.</summary>
    public string Shape => "[" + string.Join(", ", Dimensions) + "]";
}
