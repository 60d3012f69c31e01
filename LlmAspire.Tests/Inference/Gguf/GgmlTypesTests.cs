using LlmAspire.Inference.Models.Gguf;

namespace LlmAspire.Tests.Inference.Gguf;

/// <summary>
/// Each dequantizer on blocks built by hand from known scales and quants, against values worked out from ggml's formulas
/// (not from the reader's unpacking): the 6-bit scales above 15 exercise the packed high bits, the fifth and sixth quant
/// bits every position.
/// </summary>
public sealed class GgmlTypesTests
{
    [Fact]
    public void Dequantize_Q8_0_IsScaleTimesQuant()
    {
        sbyte[] q = [.. Enumerable.Range(0, 32).Select(i => (sbyte)(i * 8 - 128))];
        byte[] block = [.. GgmlEncoder.HalfBytes(0.5f), .. q.Select(v => (byte)v)];

        Assert.Equal(q.Select(v => v * 0.5f), Dequantize(GgmlType.Q8_0, block, 32));
    }

    [Fact]
    public void Dequantize_Q4_0_LowNibblesFirstHalfHighNibblesSecond()
    {
        // qs[j] = j | (15 - j) << 4: value j is (j - 8) * 2, value j + 16 is (15 - j - 8) * 2.
        byte[] block = [.. GgmlEncoder.HalfBytes(2f), .. Enumerable.Range(0, 16).Select(j => (byte)(j | ((15 - j) << 4)))];
        float[] expected = [.. Enumerable.Range(0, 16).Select(j => (j - 8) * 2f), .. Enumerable.Range(0, 16).Select(j => (7 - j) * 2f)];

        Assert.Equal(expected, Dequantize(GgmlType.Q4_0, block, 32));
    }

    [Fact]
    public void Dequantize_Q4_1_AddsTheMinimum()
    {
        byte[] block = [.. GgmlEncoder.HalfBytes(0.25f), .. GgmlEncoder.HalfBytes(-1f), .. Enumerable.Range(0, 16).Select(j => (byte)(j | (j << 4)))];
        float[] expected = [.. Enumerable.Range(0, 32).Select(i => (i % 16) * 0.25f - 1f)];

        Assert.Equal(expected, Dequantize(GgmlType.Q4_1, block, 32));
    }

    [Theory]
    [InlineData(GgmlType.Q5_0)]
    [InlineData(GgmlType.Q5_1)]
    public void Dequantize_Q5_FifthBitsComeFromQh(GgmlType type)
    {
        // Quant i is i (0..31): low nibble i & 15, fifth bit set for i >= 16; bit j of qh belongs to value j.
        int[] q = [.. Enumerable.Range(0, 32)];
        uint qh = 0;
        for (int i = 0; i < 32; i++)
        {
            qh |= (uint)((q[i] >> 4) & 1) << i;
        }

        byte[] qs = [.. Enumerable.Range(0, 16).Select(j => (byte)((q[j] & 15) | ((q[j + 16] & 15) << 4)))];
        bool q51 = type == GgmlType.Q5_1;
        byte[] block = [.. GgmlEncoder.HalfBytes(0.5f), .. (q51 ? GgmlEncoder.HalfBytes(3f) : []), .. BitConverter.GetBytes(qh), .. qs];
        float[] expected = [.. q.Select(v => q51 ? v * 0.5f + 3f : (v - 16) * 0.5f)];

        Assert.Equal(expected, Dequantize(type, block, 32));
    }

    [Theory]
    [InlineData(GgmlType.Q4_K)]
    [InlineData(GgmlType.Q5_K)]
    public void Dequantize_Q4KQ5K_ScaleAndMinPerSubBlock(GgmlType type)
    {
        int[] sc = [1, 17, 33, 63, 5, 40, 62, 31];
        int[] m = [0, 63, 2, 48, 16, 3, 35, 60];
        int levels = type == GgmlType.Q4_K ? 16 : 32;
        int[] q = [.. Enumerable.Range(0, 256).Select(i => (i * 7 + i / 32) % levels)];
        const float d = 0.125f, dmin = 0.0625f;
        byte[] block = type == GgmlType.Q4_K ? GgmlEncoder.PackQ4K(d, dmin, sc, m, q) : GgmlEncoder.PackQ5K(d, dmin, sc, m, q);
        float[] expected = [.. q.Select((v, i) => d * sc[i / 32] * v - dmin * m[i / 32])];

        Assert.Equal(type == GgmlType.Q4_K ? 144 : 176, block.Length);
        Assert.Equal(expected, Dequantize(type, block, 256));
    }

    [Fact]
    public void Dequantize_Q6K_SignedScalePerSixteenAndSixBitQuants()
    {
        int[] sc = [.. Enumerable.Range(0, 16).Select(s => s * 17 - 128)];
        int[] q = [.. Enumerable.Range(0, 256).Select(i => (i * 5 + i / 64) % 64 - 32)];
        const float d = 0.03125f;
        byte[] block = GgmlEncoder.PackQ6K(d, sc, q);
        float[] expected = [.. q.Select((v, i) => d * sc[i / 16] * v)];

        Assert.Equal(210, block.Length);
        Assert.Equal(expected, Dequantize(GgmlType.Q6_K, block, 256));
    }

    [Fact]
    public void Dequantize_Floats_F16AndBF16AsTheyRound()
    {
        float[] values = [0f, 1f, -2.5f, 3.14159f, 65504f, 1e-3f];

        Assert.Equal(values, Dequantize(GgmlType.F32, GgmlEncoder.Encode(values, GgmlType.F32).Bytes, 6));
        Assert.Equal(values.Select(v => (float)(Half)v), Dequantize(GgmlType.F16, GgmlEncoder.Encode(values, GgmlType.F16).Bytes, 6));
        Assert.Equal([0f, 1f, -2.5f, 3.140625f, 65536f, 0.00099945068359375f], Dequantize(GgmlType.BF16, GgmlEncoder.Encode(values, GgmlType.BF16).Bytes, 6));
    }

    [Fact]
    public void Dequantize_UnsupportedType_NamesItAndTheSupportedOnes()
    {
        var error = Assert.Throws<NotSupportedException>(() => Dequantize(GgmlType.Q2_K, new byte[84], 256));

        Assert.Contains("Q2_K", error.Message, StringComparison.Ordinal);
        Assert.Contains("Q6_K", error.Message, StringComparison.Ordinal);
    }

    private static float[] Dequantize(GgmlType type, byte[] block, int values)
    {
        float[] result = new float[values];
        GgmlTypes.Dequantize(type, block, result);
        return result;
    }
}
