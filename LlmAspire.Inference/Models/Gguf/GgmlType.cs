namespace LlmAspire.Inference.Models.Gguf;

/// <summary>
/// ggml's tensor types (<c>enum ggml_type</c>, gguf-py's <c>GGMLQuantizationType</c>), numbered as a GGUF tensor
/// table stores them. <see cref="GgmlTypes"/> says which of them this reader sizes and dequantizes.
/// </summary>
#pragma warning disable CA1707 // The members keep ggml's own names (Q4_K, IQ2_XXS), the ones GGUF files and tools print.
public enum GgmlType
{
    /// <summary>32-bit float.</summary>
    F32 = 0,

    /// <summary>IEEE half.</summary>
    F16 = 1,

    /// <summary>Blocks of 32: one half scale, 4-bit quants offset by 8.</summary>
    Q4_0 = 2,

    /// <summary>Blocks of 32: half scale and minimum, 4-bit quants.</summary>
    Q4_1 = 3,

    /// <summary>Blocks of 32: one half scale, 5-bit quants offset by 16.</summary>
    Q5_0 = 6,

    /// <summary>Blocks of 32: half scale and minimum, 5-bit quants.</summary>
    Q5_1 = 7,

    /// <summary>Blocks of 32: one half scale, 8-bit quants.</summary>
    Q8_0 = 8,

    /// <summary>Blocks of 32 with a sum (activations only).</summary>
    Q8_1 = 9,

    /// <summary>Super-blocks of 256, 2-bit.</summary>
    Q2_K = 10,

    /// <summary>Super-blocks of 256, 3-bit.</summary>
    Q3_K = 11,

    /// <summary>Super-blocks of 256: eight sub-blocks of 32 with 6-bit scales and minimums, 4-bit quants.</summary>
    Q4_K = 12,

    /// <summary>Super-blocks of 256: as <see cref="Q4_K"/> with a fifth bit per quant.</summary>
    Q5_K = 13,

    /// <summary>Super-blocks of 256: sixteen sub-blocks of 16 with 8-bit scales, 6-bit quants.</summary>
    Q6_K = 14,

    /// <summary>Super-blocks of 256, 8-bit (activations only).</summary>
    Q8_K = 15,

    /// <summary>Importance-matrix 2-bit.</summary>
    IQ2_XXS = 16,

    /// <summary>Importance-matrix 2-bit.</summary>
    IQ2_XS = 17,

    /// <summary>Importance-matrix 3-bit.</summary>
    IQ3_XXS = 18,

    /// <summary>Importance-matrix 1-bit.</summary>
    IQ1_S = 19,

    /// <summary>Non-linear 4-bit.</summary>
    IQ4_NL = 20,

    /// <summary>Importance-matrix 3-bit.</summary>
    IQ3_S = 21,

    /// <summary>Importance-matrix 2-bit.</summary>
    IQ2_S = 22,

    /// <summary>Non-linear 4-bit, super-blocks.</summary>
    IQ4_XS = 23,

    /// <summary>8-bit integer.</summary>
    I8 = 24,

    /// <summary>16-bit integer.</summary>
    I16 = 25,

    /// <summary>32-bit integer.</summary>
    I32 = 26,

    /// <summary>64-bit integer.</summary>
    I64 = 27,

    /// <summary>64-bit float.</summary>
    F64 = 28,

    /// <summary>Importance-matrix 1-bit.</summary>
    IQ1_M = 29,

    /// <summary>bfloat16.</summary>
    BF16 = 30,

    /// <summary>Ternary.</summary>
    TQ1_0 = 34,

    /// <summary>Ternary.</summary>
    TQ2_0 = 35,

    /// <summary>Microscaling 4-bit float.</summary>
    MXFP4 = 39,
}
#pragma warning restore CA1707
