using System.Buffers.Binary;
using LlmAspire.Inference.Models.Gguf;

namespace LlmAspire.Tests.Inference.Gguf;

/// <summary>
/// Test-side encoders of ggml tensor types, written from ggml-quants.c and not from the code under test: F16 and BF16
/// rounded to nearest even (GGML_FP32_TO_FP16 / GGML_FP32_TO_BF16), ggml's reference quantizers for Q8_0 and Q4_0
/// (<c>quantize_row_q8_0_ref</c>, <c>quantize_row_q4_0_ref</c>), and for Q4_K, Q5_K and Q6_K simple min/max choices of
/// scales packed exactly as <c>quantize_row_q*_K_ref</c> packs them. Each returns the bytes and the values they stand for.
/// </summary>
internal static class GgmlEncoder
{
    public static (byte[] Bytes, float[] Values) Encode(float[] x, GgmlType type) => type switch
    {
        GgmlType.F32 => (x.SelectMany(BitConverter.GetBytes).ToArray(), (float[])x.Clone()),
        GgmlType.F16 => (x.SelectMany(v => BitConverter.GetBytes((Half)v)).ToArray(), [.. x.Select(v => (float)(Half)v)]),
        GgmlType.BF16 => (x.SelectMany(v => BitConverter.GetBytes(Bf16(v))).ToArray(), [.. x.Select(v => BitConverter.Int32BitsToSingle(Bf16(v) << 16))]),
        GgmlType.Q8_0 => Blocks(x, 32, Q8_0),
        GgmlType.Q4_0 => Blocks(x, 32, Q4_0),
        GgmlType.Q4_K => Blocks(x, 256, b => QK(b, levels: 15, fifthBit: false)),
        GgmlType.Q5_K => Blocks(x, 256, b => QK(b, levels: 31, fifthBit: true)),
        GgmlType.Q6_K => Blocks(x, 256, Q6_K),
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "No test encoder."),
    };

    /// <summary>ggml_compute_fp32_to_bf16: round to nearest even.</summary>
    public static ushort Bf16(float value)
    {
        uint u = BitConverter.SingleToUInt32Bits(value);
        return (ushort)((u + (0x7FFF + ((u >> 16) & 1))) >> 16);
    }

    public static byte[] HalfBytes(float value) => BitConverter.GetBytes((Half)value);

    private static (byte[] Bytes, float[] Values) Blocks(float[] x, int size, Func<float[], (byte[] Bytes, float[] Values)> encode)
    {
        if (x.Length % size != 0)
        {
            throw new ArgumentException($"{x.Length} values are not whole blocks of {size}.");
        }

        var bytes = new List<byte>();
        var values = new List<float>();
        for (int i = 0; i < x.Length; i += size)
        {
            (byte[] b, float[] v) = encode(x[i..(i + size)]);
            bytes.AddRange(b);
            values.AddRange(v);
        }

        return ([.. bytes], [.. values]);
    }

    // quantize_row_q8_0_ref: d = amax / 127, q = roundf(x / d).
    private static (byte[] Bytes, float[] Values) Q8_0(float[] x)
    {
        float amax = x.Max(MathF.Abs);
        float d = amax / 127;
        float id = d != 0 ? 1.0f / d : 0.0f;
        float dh = (float)(Half)d;
        byte[] bytes = [.. HalfBytes(d), .. new byte[32]];
        float[] values = new float[32];
        for (int j = 0; j < 32; j++)
        {
            sbyte q = (sbyte)MathF.Round(x[j] * id, MidpointRounding.AwayFromZero);
            bytes[2 + j] = (byte)q;
            values[j] = q * dh;
        }

        return (bytes, values);
    }

    // quantize_row_q4_0_ref: d = (signed value of largest magnitude) / -8; q = min(15, (int8)(x / d + 8.5)).
    private static (byte[] Bytes, float[] Values) Q4_0(float[] x)
    {
        float amax = 0, max = 0;
        foreach (float v in x)
        {
            if (amax < MathF.Abs(v))
            {
                amax = MathF.Abs(v);
                max = v;
            }
        }

        float d = max / -8;
        float id = d != 0 ? 1.0f / d : 0.0f;
        float dh = (float)(Half)d;
        byte[] bytes = [.. HalfBytes(d), .. new byte[16]];
        float[] values = new float[32];
        for (int j = 0; j < 16; j++)
        {
            int q0 = Math.Min(15, (int)(sbyte)(x[j] * id + 8.5f));
            int q1 = Math.Min(15, (int)(sbyte)(x[j + 16] * id + 8.5f));
            bytes[2 + j] = (byte)(q0 | (q1 << 4));
            values[j] = (q0 - 8) * dh;
            values[j + 16] = (q1 - 8) * dh;
        }

        return (bytes, values);
    }

    // Q4_K / Q5_K: eight sub-blocks of 32, each with a 6-bit scale and min relative to the half d and dmin.
    private static (byte[] Bytes, float[] Values) QK(float[] x, int levels, bool fifthBit)
    {
        float[] scale = new float[8], min = new float[8];
        for (int s = 0; s < 8; s++)
        {
            float lo = Math.Min(0, x.Skip(32 * s).Take(32).Min()), hi = x.Skip(32 * s).Take(32).Max();
            scale[s] = (hi - lo) / levels;
            min[s] = -lo;
        }

        float dh = (float)(Half)(scale.Max() / 63), dminh = (float)(Half)(min.Max() / 63);
        int[] sc = [.. scale.Select(v => dh == 0 ? 0 : Math.Clamp((int)MathF.Round(v / dh), 0, 63))];
        int[] m = [.. min.Select(v => dminh == 0 ? 0 : Math.Clamp((int)MathF.Round(v / dminh), 0, 63))];
        int[] q = new int[256];
        float[] values = new float[256];
        for (int i = 0; i < 256; i++)
        {
            int s = i / 32;
            float d1 = dh * sc[s], m1 = dminh * m[s];
            q[i] = d1 == 0 ? 0 : Math.Clamp((int)MathF.Round((x[i] + m1) / d1), 0, levels);
            values[i] = d1 * q[i] - m1;
        }

        return (fifthBit ? PackQ5K(dh, dminh, sc, m, q) : PackQ4K(dh, dminh, sc, m, q), values);
    }

    /// <summary>The 12 bytes of eight 6-bit scales and mins, as quantize_row_q4_K_ref packs them.</summary>
    public static byte[] PackScales(int[] sc, int[] m)
    {
        byte[] scales = new byte[12];
        for (int j = 0; j < 8; j++)
        {
            if (j < 4)
            {
                scales[j] = (byte)sc[j];
                scales[j + 4] = (byte)m[j];
            }
            else
            {
                scales[j + 4] = (byte)((sc[j] & 0xF) | ((m[j] & 0xF) << 4));
                scales[j - 4] |= (byte)((sc[j] >> 4) << 6);
                scales[j] |= (byte)((m[j] >> 4) << 6);
            }
        }

        return scales;
    }

    public static byte[] PackQ4K(float d, float dmin, int[] sc, int[] m, int[] q)
    {
        byte[] qs = new byte[128];
        for (int j = 0; j < 256; j += 64)
        {
            for (int l = 0; l < 32; l++)
            {
                qs[j / 2 + l] = (byte)(q[j + l] | (q[j + l + 32] << 4));
            }
        }

        return [.. HalfBytes(d), .. HalfBytes(dmin), .. PackScales(sc, m), .. qs];
    }

    public static byte[] PackQ5K(float d, float dmin, int[] sc, int[] m, int[] q)
    {
        byte[] qh = new byte[32], ql = new byte[128];
        int m1 = 1, m2 = 2;
        for (int n = 0; n < 256; n += 64)
        {
            for (int j = 0; j < 32; j++)
            {
                int l1 = q[n + j], l2 = q[n + j + 32];
                if (l1 > 15)
                {
                    l1 -= 16;
                    qh[j] |= (byte)m1;
                }

                if (l2 > 15)
                {
                    l2 -= 16;
                    qh[j] |= (byte)m2;
                }

                ql[n / 2 + j] = (byte)(l1 | (l2 << 4));
            }

            m1 <<= 2;
            m2 <<= 2;
        }

        return [.. HalfBytes(d), .. HalfBytes(dmin), .. PackScales(sc, m), .. qh, .. ql];
    }

    // Q6_K: sixteen sub-blocks of 16 with int8 scales relative to the half d; quants -32..31.
    private static (byte[] Bytes, float[] Values) Q6_K(float[] x)
    {
        float[] scale = new float[16];
        for (int s = 0; s < 16; s++)
        {
            scale[s] = x.Skip(16 * s).Take(16).Max(MathF.Abs) / 31;
        }

        float dh = (float)(Half)(scale.Max() / 127);
        int[] sc = [.. scale.Select(v => dh == 0 ? 0 : Math.Clamp((int)MathF.Round(v / dh), -128, 127))];
        int[] q = new int[256];
        float[] values = new float[256];
        for (int i = 0; i < 256; i++)
        {
            float d1 = dh * sc[i / 16];
            q[i] = d1 == 0 ? 0 : Math.Clamp((int)MathF.Round(x[i] / d1), -32, 31);
            values[i] = d1 * q[i];
        }

        return (PackQ6K(dh, sc, q), values);
    }

    /// <summary>quantize_row_q6_K_ref's packing of quants -32..31 and sixteen int8 scales.</summary>
    public static byte[] PackQ6K(float d, int[] sc, int[] q)
    {
        int[] l = [.. q.Select(v => v + 32)];
        byte[] ql = new byte[128], qh = new byte[64];
        for (int j = 0, o = 0, h = 0; j < 256; j += 128, o += 64, h += 32)
        {
            for (int i = 0; i < 32; i++)
            {
                ql[o + i] = (byte)((l[j + i] & 0xF) | ((l[j + i + 64] & 0xF) << 4));
                ql[o + i + 32] = (byte)((l[j + i + 32] & 0xF) | ((l[j + i + 96] & 0xF) << 4));
                qh[h + i] = (byte)((l[j + i] >> 4) | ((l[j + i + 32] >> 4) << 2) | ((l[j + i + 64] >> 4) << 4) | ((l[j + i + 96] >> 4) << 6));
            }
        }

        byte[] scales = [.. sc.Select(s => (byte)(sbyte)s)];
        byte[] d16 = new byte[2];
        BinaryPrimitives.WriteHalfLittleEndian(d16, (Half)d);
        return [.. ql, .. qh, .. scales, .. d16];
    }
}
