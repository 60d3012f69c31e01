using LlmAspire.Inference.Models.Quantization;

namespace LlmAspire.Tests.Inference.Quantization;

public sealed class BlockQuantizerTests
{
    public static TheoryData<int, bool, int, int> Shapes => new()
    {
        { 8, false, 64, 32 },
        { 8, true, 64, 32 },
        { 4, false, 64, 32 },
        { 4, true, 64, 32 },
        { 8, false, 172, 32 }, // stories260K's FFN width: 5 full blocks and one of 12.
        { 8, true, 172, 32 },
        { 4, false, 172, 32 },
        { 4, true, 172, 32 },
        { 4, false, 80, 32 },  // three blocks: the packed zero points of a column end in half a byte.
        { 4, false, 20, 128 }, // K smaller than one block.
        { 8, true, 100, 16 },
        { 4, true, 256, 128 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Quantize_PackedCodes_EqualTheBlockwiseReference(int bits, bool symmetric, int k, int blockSize)
    {
        const int n = 37;
        float[] weight = RandomMatrix(k, n, seed: k * 31 + bits);
        QuantizedMatrix q = BlockQuantizer.Quantize(weight, k, n, bits, blockSize, symmetric);

        int blocks = (k + blockSize - 1) / blockSize;
        Assert.Equal(n * blocks * (blockSize * bits / 8), q.Packed.Length);
        Assert.Equal(n * blocks, q.Scales.Length);
        if (symmetric)
        {
            Assert.Null(q.ZeroPoints);
        }
        else
        {
            Assert.Equal(n * ((blocks * bits + 7) / 8), q.ZeroPoints!.Length);
        }

        for (int col = 0; col < n; col++)
        {
            for (int b = 0; b < blocks; b++)
            {
                float[] block = [.. Enumerable.Range(b * blockSize, Math.Min(blockSize, k - b * blockSize)).Select(row => weight[row * n + col])];
                (float scale, int zeroPoint, int[] codes) = Reference(block, bits, symmetric);
                Assert.Equal(scale, q.Scale(col, b));
                Assert.Equal(zeroPoint, q.ZeroPoint(col, b));
                for (int i = 0; i < block.Length; i++)
                {
                    Assert.Equal(codes[i], q.Code(b * blockSize + i, col));
                }

                // K's padding at the end of the last block holds the zero point: it dequantizes to exactly 0.
                int offset = (col * blocks + b) * q.BlobSize;
                for (int i = block.Length; i < blockSize; i++)
                {
                    Assert.Equal(zeroPoint, QuantizedMatrix.Unpack(q.Packed, offset, i, bits));
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Dequantize_Error_IsWithinHalfAStep(int bits, bool symmetric, int k, int blockSize)
    {
        const int n = 29;
        float[] weight = RandomMatrix(k, n, seed: k + bits);
        QuantizedMatrix q = BlockQuantizer.Quantize(weight, k, n, bits, blockSize, symmetric);
        float[] restored = q.Dequantize();
        int mid = 1 << (bits - 1), maxCode = (1 << bits) - 1;
        for (int row = 0; row < k; row++)
        {
            for (int col = 0; col < n; col++)
            {
                float scale = MathF.Abs(q.Scale(col, row / blockSize));
                float error = MathF.Abs(weight[row * n + col] - restored[row * n + col]);
                float v = weight[row * n + col] / q.Scale(col, row / blockSize) + (symmetric ? mid : 0);

                // Asymmetric ranges always hold every value. Symmetric ones fit the largest magnitude exactly and
                // may clip the other end by one step (2^(bits-1) codes below the zero point, one fewer above).
                bool clipped = symmetric && (v > maxCode + 0.5f || v < -0.5f);
                Assert.True(error <= (clipped ? scale : scale / 2) * 1.0001f + 1e-7f, $"({row}, {col}): error {error} with step {scale}");
            }
        }
    }

    [Fact]
    public void Quantize_FourBits_PacksLowNibbleFirstColumnByColumn()
    {
        // B is [K=16, N=2]: column 0 holds -4 .. 3.5 (scale 0.5 symmetric, codes 0 .. 15), column 1 zeros.
        float[] weight = new float[16 * 2];
        for (int row = 0; row < 16; row++)
        {
            weight[row * 2] = (row - 8) * 0.5f;
        }

        QuantizedMatrix q = BlockQuantizer.Quantize(weight, 16, 2, bits: 4, blockSize: 16, symmetric: true);

        Assert.Equal([0x10, 0x32, 0x54, 0x76, 0x98, 0xBA, 0xDC, 0xFE, 0x88, 0x88, 0x88, 0x88, 0x88, 0x88, 0x88, 0x88], q.Packed);
        Assert.Equal([0.5f, 0f], q.Scales);
        Assert.Equal(weight, q.Dequantize());
    }

    [Fact]
    public void Quantize_FourBitZeroPoints_PackTwoBlocksPerByteAndPadEachColumn()
    {
        // Three blocks per column: zero points take two bytes per column, the last high nibble unused.
        const int k = 48, n = 2;
        float[] weight = new float[k * n];
        for (int row = 0; row < k; row++)
        {
            // Block b of column c spans [-(b + 1), 15 - (b + 1)] * (c + 1): zero point b + 1.
            int b = row / 16;
            weight[row * n] = row % 16 - (b + 1);
            weight[row * n + 1] = 2 * (row % 16 - (b + 1));
        }

        QuantizedMatrix q = BlockQuantizer.Quantize(weight, k, n, bits: 4, blockSize: 16, symmetric: false);

        Assert.Equal([0x21, 0x03, 0x21, 0x03], q.ZeroPoints);
        Assert.Equal([1f, 1f, 1f, 2f, 2f, 2f], q.Scales);
        Assert.Equal(weight, q.Dequantize());
    }

    [Fact]
    public void Quantize_EightBits_StoresOneCodePerByte()
    {
        float[] weight = [-1.28f, 0f, 0.64f, 1.27f, .. new float[12]];
        QuantizedMatrix q = BlockQuantizer.Quantize(weight, 16, 1, bits: 8, blockSize: 16, symmetric: false);

        // Range [-1.28, 1.27] over 255 steps of 0.01: zero point 128.
        Assert.Equal(128, q.ZeroPoint(0, 0));
        Assert.Equal((1.27f + 1.28f) / 255, q.Scale(0, 0));
        Assert.Equal([0, 128, 192, 255], q.Packed.Take(4).Select(b => (int)b));
        Assert.Equal(16, q.Packed.Length);
    }

    [Theory]
    [InlineData(3, 32)]
    [InlineData(4, 24)]
    [InlineData(8, 8)]
    public void Quantize_UnsupportedBitsOrBlockSize_Throws(int bits, int blockSize) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => BlockQuantizer.Quantize(new float[64], 64, 1, bits, blockSize, symmetric: false));

    /// <summary>
    /// Block-wise round-to-nearest written out plainly, with the formulas of ONNX Runtime's MLAS
    /// (<c>range2scalezp</c> / <c>range2scale</c>, then <c>clamp(round(v * (1 / scale) + zp))</c>).
    /// </summary>
    private static (float Scale, int ZeroPoint, int[] Codes) Reference(float[] block, int bits, bool symmetric)
    {
        int maxCode = (1 << bits) - 1;
        float min = block.Min(), max = block.Max();
        float scale;
        int zeroPoint;
        if (symmetric)
        {
            float extreme = Math.Abs(max) > Math.Abs(min) ? max : min;
            zeroPoint = 1 << (bits - 1);
            scale = extreme / -zeroPoint;
        }
        else
        {
            min = Math.Min(min, 0);
            max = Math.Max(max, 0);
            scale = (max - min) / maxCode;
            zeroPoint = scale == 0 ? 0 : Math.Clamp((int)MathF.Round(-min / scale, MidpointRounding.AwayFromZero), 0, maxCode);
        }

        float reciprocal = scale == 0 ? 0 : 1 / scale;
        int[] codes = [.. block.Select(v => Math.Clamp((int)MathF.Round(v * reciprocal + zeroPoint, MidpointRounding.AwayFromZero), 0, maxCode))];
        return (scale, zeroPoint, codes);
    }

    internal static float[] RandomMatrix(int rows, int cols, int seed)
    {
        var random = new Random(seed);
        float[] values = new float[rows * cols];
        for (int i = 0; i < values.Length; i++)
        {
            // Mostly small values with a few outliers, like trained weights.
            values[i] = (float)((random.NextDouble() - 0.5) * (random.Next(20) == 0 ? 1.0 : 0.1));
        }

        return values;
    }
}
