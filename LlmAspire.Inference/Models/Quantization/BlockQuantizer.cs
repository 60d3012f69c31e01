using System.Numerics;

namespace LlmAspire.Inference.Models.Quantization;

/// <summary>
/// Round-to-nearest block-wise weight quantization as ONNX Runtime's MLAS does it for <c>MatMulNBits</c>
/// (<c>MlasQuantizeBlockwise</c>): each block of <c>block_size</c> values along K gets a scale, and a zero point
/// when asymmetric.
/// <list type="bullet">
/// <item>Asymmetric: the range [min(0, min), max(0, max)] maps onto 0 .. 2^bits - 1; the zero point is the rounded
/// code of 0.0, so zero is exact.</item>
/// <item>Symmetric: scale = v / -2^(bits-1) where v is the value of largest magnitude (sign kept), zero point
/// 2^(bits-1): v itself is exact, the opposite end may clip by at most one step.</item>
/// </list>
/// </summary>
public static class BlockQuantizer
{
    /// <summary>Range shrinks <see cref="SearchedBlockParameters"/> tries between the full range and half of it.</summary>
    internal const int ShrinkSteps = 10;

    private const int ColumnTile = 16;

    /// <summary>Bit widths the quantizer writes (MatMulNBits runs both on the CPU and CUDA providers).</summary>
    public static IReadOnlyList<int> SupportedBits { get; } = [4, 8];

    /// <summary>Whether <paramref name="blockSize"/> is one MatMulNBits accepts: a power of two, at least 16.</summary>
    public static bool IsValidBlockSize(int blockSize) => blockSize >= 16 && BitOperations.IsPow2(blockSize);

    /// <summary>
    /// Quantizes <paramref name="weight"/>, a row-major [<paramref name="k"/>, <paramref name="n"/>] matrix (the
    /// B of <c>Y = A B</c>, as ONNX MatMul stores it), into MatMulNBits's column-per-output layout.
    /// </summary>
    public static QuantizedMatrix Quantize(float[] weight, int k, int n, int bits, int blockSize, bool symmetric)
    {
        ArgumentNullException.ThrowIfNull(weight);
        if (!SupportedBits.Contains(bits))
        {
            throw new ArgumentOutOfRangeException(nameof(bits), bits, "bits must be 4 or 8.");
        }

        if (!IsValidBlockSize(blockSize))
        {
            throw new ArgumentOutOfRangeException(nameof(blockSize), blockSize, "block_size must be a power of two, at least 16.");
        }

        if (k <= 0 || n <= 0 || (long)k * n != weight.LongLength)
        {
            throw new ArgumentException($"A [{k}, {n}] matrix has {(long)k * n} values, not {weight.LongLength}.", nameof(weight));
        }

        int blocks = (k + blockSize - 1) / blockSize;
        int blob = blockSize * bits / 8;
        int zeroPointBytes = (blocks * bits + 7) / 8;
        byte[] packed = new byte[(long)n * blocks * blob];
        float[] scales = new float[(long)n * blocks];
        byte[]? zeroPoints = symmetric ? null : new byte[(long)n * zeroPointBytes];
        int tiles = (n + ColumnTile - 1) / ColumnTile;

        // A tile of adjacent columns is gathered block by block: each row read is contiguous, each column's block then is too.
        Parallel.For(
            0,
            tiles,
            () => new float[ColumnTile * blockSize],
            (tile, _, buffer) =>
            {
                int n0 = tile * ColumnTile;
                int width = Math.Min(ColumnTile, n - n0);
                for (int b = 0; b < blocks; b++)
                {
                    int k0 = b * blockSize;
                    int length = Math.Min(blockSize, k - k0);
                    for (int kk = 0; kk < length; kk++)
                    {
                        int row = (k0 + kk) * n + n0;
                        for (int j = 0; j < width; j++)
                        {
                            buffer[j * blockSize + kk] = weight[row + j];
                        }
                    }

                    for (int j = 0; j < width; j++)
                    {
                        int column = n0 + j;
                        int index = column * blocks + b;
                        int zeroPoint = QuantizeBlock(
                            buffer.AsSpan(j * blockSize, length), blockSize, bits, symmetric, packed.AsSpan(index * blob, blob), out scales[index]);
                        if (zeroPoints is not null)
                        {
                            PackCode(zeroPoints.AsSpan(column * zeroPointBytes, zeroPointBytes), b, zeroPoint, bits);
                        }
                    }
                }

                return buffer;
            },
            _ => { });

        return new QuantizedMatrix(k, n, bits, blockSize, packed, scales, zeroPoints);
    }

    /// <summary>
    /// Quantizes one block (<paramref name="values"/>, at most <paramref name="blockSize"/> long; the rest is K's
    /// padding and gets the zero point) into <paramref name="blob"/>, and returns its zero point.
    /// </summary>
    internal static int QuantizeBlock(ReadOnlySpan<float> values, int blockSize, int bits, bool symmetric, Span<byte> blob, out float scale)
    {
        int maxCode = (1 << bits) - 1;
        int zeroPoint = BlockParameters(values, bits, symmetric, out scale);
        float reciprocal = scale != 0f ? 1f / scale : 0f;
        blob.Clear();
        for (int i = 0; i < blockSize; i++)
        {
            int code = i < values.Length ? Code(values[i], reciprocal, zeroPoint, maxCode) : zeroPoint;
            PackCode(blob, i, code, bits);
        }

        return zeroPoint;
    }

    /// <summary>The scale and zero point MLAS would give a block holding <paramref name="values"/>.</summary>
    internal static int BlockParameters(ReadOnlySpan<float> values, int bits, bool symmetric, out float scale)
    {
        int maxCode = (1 << bits) - 1;
        float min = float.PositiveInfinity, max = float.NegativeInfinity;
        foreach (float v in values)
        {
            min = MathF.Min(min, v);
            max = MathF.Max(max, v);
        }

        if (symmetric)
        {
            int mid = 1 << (bits - 1);
            float extreme = MathF.Abs(max) > MathF.Abs(min) ? max : min;
            scale = extreme / -mid;
            return mid;
        }

        min = MathF.Min(min, 0f);
        max = MathF.Max(max, 0f);
        scale = (max - min) / maxCode;
        float zeroPointF = scale != 0f ? -min / scale : 0f;
        return Math.Clamp((int)MathF.Round(zeroPointF, MidpointRounding.AwayFromZero), 0, maxCode);
    }

    /// <summary>
    /// Like <see cref="BlockParameters"/>, but the range may shrink (in <see cref="ShrinkSteps"/> steps down to half
    /// of it) when clipping the extremes lowers the block's squared rounding error, each value's error weighted by
    /// <paramref name="importance"/> when given: GPTQ's reference quantizer does this search (its "mse" option), AWQ's
    /// clipping search the same with the output error; with 4 bits a slightly clipped range often rounds the bulk of a
    /// block better than the full one.
    /// </summary>
    internal static int SearchedBlockParameters(ReadOnlySpan<float> values, int bits, bool symmetric, out float scale, ReadOnlySpan<float> importance = default)
    {
        int maxCode = (1 << bits) - 1;
        int best = BlockParameters(values, bits, symmetric, out scale);
        double bestError = RoundingError(values, importance, scale, best, maxCode);
        float min = 0f, max = 0f;
        foreach (float v in values)
        {
            min = MathF.Min(min, v);
            max = MathF.Max(max, v);
        }

        for (int step = 1; step <= ShrinkSteps; step++)
        {
            float shrink = 1f - (0.5f * step / ShrinkSteps);
            Span<float> range = [min * shrink, max * shrink];
            int zeroPoint = BlockParameters(range, bits, symmetric, out float candidate);
            double error = RoundingError(values, importance, candidate, zeroPoint, maxCode);
            if (error < bestError)
            {
                (bestError, best, scale) = (error, zeroPoint, candidate);
            }
        }

        return best;
    }

    private static double RoundingError(ReadOnlySpan<float> values, ReadOnlySpan<float> importance, float scale, int zeroPoint, int maxCode)
    {
        float reciprocal = scale != 0f ? 1f / scale : 0f;
        double error = 0;
        for (int i = 0; i < values.Length; i++)
        {
            float v = values[i];
            double e = v - ((Code(v, reciprocal, zeroPoint, maxCode) - zeroPoint) * scale);
            error += importance.IsEmpty ? e * e : importance[i] * e * e;
        }

        return error;
    }

    /// <summary>The code of <paramref name="value"/> in a block with the given reciprocal scale and zero point.</summary>
    internal static int Code(float value, float reciprocal, int zeroPoint, int maxCode) =>
        Math.Clamp((int)MathF.Round(value * reciprocal + zeroPoint, MidpointRounding.AwayFromZero), 0, maxCode);

    /// <summary>
    /// What <see cref="Quantize"/> followed by <see cref="QuantizedMatrix.Dequantize"/> gives, without packing: the
    /// weight as MatMulNBits will see it. Activation-aware scaling compares candidate scales with it.
    /// </summary>
    internal static float[] FakeQuantize(float[] weight, int k, int n, int bits, int blockSize, bool symmetric)
    {
        float[] result = new float[weight.Length];
        int maxCode = (1 << bits) - 1;
        int blocks = (k + blockSize - 1) / blockSize;
        Parallel.For(
            0,
            n,
            () => new float[blockSize],
            (column, _, buffer) =>
            {
                for (int b = 0; b < blocks; b++)
                {
                    int k0 = b * blockSize;
                    int length = Math.Min(blockSize, k - k0);
                    for (int kk = 0; kk < length; kk++)
                    {
                        buffer[kk] = weight[(k0 + kk) * n + column];
                    }

                    int zeroPoint = BlockParameters(buffer.AsSpan(0, length), bits, symmetric, out float scale);
                    float reciprocal = scale != 0f ? 1f / scale : 0f;
                    for (int kk = 0; kk < length; kk++)
                    {
                        result[(k0 + kk) * n + column] = (Code(buffer[kk], reciprocal, zeroPoint, maxCode) - zeroPoint) * scale;
                    }
                }

                return buffer;
            },
            _ => { });
        return result;
    }

    /// <summary>
    /// Packs codes chosen elsewhere (error-compensating quantization picks them one row at a time) into
    /// MatMulNBits's layout. <paramref name="codes"/> is [K, N] row-major; <paramref name="scales"/> and
    /// <paramref name="zeroPoints"/> are [N * blocks], column-major by block; zero points are ignored when symmetric.
    /// </summary>
    internal static QuantizedMatrix Pack(int k, int n, int bits, int blockSize, bool symmetric, byte[] codes, float[] scales, int[] zeroPoints)
    {
        int blocks = (k + blockSize - 1) / blockSize;
        int blob = blockSize * bits / 8;
        int zeroPointBytes = (blocks * bits + 7) / 8;
        byte[] packed = new byte[(long)n * blocks * blob];
        byte[]? packedZeroPoints = symmetric ? null : new byte[(long)n * zeroPointBytes];
        for (int column = 0; column < n; column++)
        {
            for (int b = 0; b < blocks; b++)
            {
                int index = column * blocks + b;
                Span<byte> row = packed.AsSpan(index * blob, blob);
                for (int i = 0; i < blockSize; i++)
                {
                    int kk = b * blockSize + i;
                    PackCode(row, i, kk < k ? codes[kk * n + column] : zeroPoints[index], bits);
                }

                if (packedZeroPoints is not null)
                {
                    PackCode(packedZeroPoints.AsSpan(column * zeroPointBytes, zeroPointBytes), b, zeroPoints[index], bits);
                }
            }
        }

        return new QuantizedMatrix(k, n, bits, blockSize, packed, scales, packedZeroPoints);
    }

    /// <summary>Writes <paramref name="code"/> as element <paramref name="index"/> of a low-bits-first packed row.</summary>
    private static void PackCode(Span<byte> row, int index, int code, int bits)
    {
        if (bits == 8)
        {
            row[index] = (byte)code;
            return;
        }

        int perByte = 8 / bits;
        row[index / perByte] |= (byte)(code << (index % perByte * bits));
    }
}
