namespace LlmAspire.Inference.Models.Quantization;

/// <summary>
/// A [K, N] weight matrix quantized block-wise along K in the layout of ONNX Runtime's <c>MatMulNBits</c>:
/// one column (output) at a time, <see cref="BlocksPerColumn"/> blocks of <see cref="BlockSize"/> values each.
/// </summary>
/// <param name="K">Input features (rows of the original [K, N] matrix).</param>
/// <param name="N">Output features (columns).</param>
/// <param name="Bits">4 or 8.</param>
/// <param name="BlockSize">Values per block along K: a power of two, at least 16.</param>
/// <param name="Packed">[N, BlocksPerColumn, BlobSize] bytes; codes packed low bits first; K's padding holds the zero point.</param>
/// <param name="Scales">[N * BlocksPerColumn], column-major by block.</param>
/// <param name="ZeroPoints">
/// Asymmetric only: [N, ceil(BlocksPerColumn * Bits / 8)] bytes packed like <paramref name="Packed"/>; null when
/// symmetric (MatMulNBits then uses 2^(Bits-1)).
/// </param>
public sealed record QuantizedMatrix(int K, int N, int Bits, int BlockSize, byte[] Packed, float[] Scales, byte[]? ZeroPoints)
{
    /// <summary>Blocks per column: ceil(K / BlockSize).</summary>
    public int BlocksPerColumn => (K + BlockSize - 1) / BlockSize;

    /// <summary>Bytes per block: BlockSize * Bits / 8.</summary>
    public int BlobSize => BlockSize * Bits / 8;

    /// <summary>Bytes of zero points per column.</summary>
    public int ZeroPointBytesPerColumn => (BlocksPerColumn * Bits + 7) / 8;

    /// <summary>The zero point that symmetric quantization implies: 2^(Bits-1).</summary>
    public int DefaultZeroPoint => 1 << (Bits - 1);

    /// <summary>The unpacked code of element (k, n).</summary>
    public int Code(int k, int n)
    {
        int block = k / BlockSize, within = k % BlockSize;
        int offset = (n * BlocksPerColumn + block) * BlobSize;
        return Unpack(Packed, offset, within, Bits);
    }

    /// <summary>The zero point of block <paramref name="block"/> of column <paramref name="n"/>.</summary>
    public int ZeroPoint(int n, int block) =>
        ZeroPoints is null ? DefaultZeroPoint : Unpack(ZeroPoints, n * ZeroPointBytesPerColumn, block, Bits);

    /// <summary>The scale of block <paramref name="block"/> of column <paramref name="n"/>.</summary>
    public float Scale(int n, int block) => Scales[n * BlocksPerColumn + block];

    /// <summary>The dequantized matrix, [K, N] row-major like the original: (code - zero point) * scale.</summary>
    public float[] Dequantize()
    {
        float[] result = new float[K * N];
        for (int n = 0; n < N; n++)
        {
            for (int k = 0; k < K; k++)
            {
                int block = k / BlockSize;
                result[k * N + n] = (Code(k, n) - ZeroPoint(n, block)) * Scale(n, block);
            }
        }

        return result;
    }

    /// <summary>Bytes this matrix takes as initializers (packed weights, scales, zero points).</summary>
    public long StorageBytes => Packed.LongLength + Scales.LongLength * sizeof(float) + (ZeroPoints?.LongLength ?? 0);

    internal static int Unpack(byte[] bytes, int offset, int index, int bits)
    {
        if (bits == 8)
        {
            return bytes[offset + index];
        }

        int perByte = 8 / bits;
        int shift = index % perByte * bits;
        return (bytes[offset + index / perByte] >> shift) & ((1 << bits) - 1);
    }
}
