using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace LlmAspire.Inference.Models.Gguf;

/// <summary>
/// Block sizes of the ggml tensor types and dequantization to float32 of F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0,
/// Q4_K, Q5_K and Q6_K, each block read exactly as ggml's <c>dequantize_row_*</c> (ggml-quants.c) reads its
/// <c>block_*</c> struct (ggml-common.h): little-endian halves, quants packed low nibble first.
/// </summary>
public static class GgmlTypes
{
    /// <summary>Values in one K-quant super-block (ggml's <c>QK_K</c>).</summary>
    public const int SuperBlock = 256;

    /// <summary>The types <see cref="Dequantize"/> reads.</summary>
    public static IReadOnlyList<GgmlType> Dequantizable { get; } =
    [
        GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1,
        GgmlType.Q8_0, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K,
    ];

    /// <summary>Values per block and bytes per block of <paramref name="type"/>; null when this reader does not know the type's size.</summary>
    public static (int Values, int Bytes)? BlockOf(GgmlType type) => type switch
    {
        GgmlType.F32 or GgmlType.I32 => (1, 4),
        GgmlType.F16 or GgmlType.BF16 or GgmlType.I16 => (1, 2),
        GgmlType.I8 => (1, 1),
        GgmlType.I64 or GgmlType.F64 => (1, 8),
        GgmlType.Q4_0 => (32, 18),
        GgmlType.Q4_1 => (32, 20),
        GgmlType.Q5_0 => (32, 22),
        GgmlType.Q5_1 => (32, 24),
        GgmlType.Q8_0 => (32, 34),
        GgmlType.Q8_1 => (32, 36),
        GgmlType.Q2_K => (SuperBlock, 84),
        GgmlType.Q3_K => (SuperBlock, 110),
        GgmlType.Q4_K => (SuperBlock, 144),
        GgmlType.Q5_K => (SuperBlock, 176),
        GgmlType.Q6_K => (SuperBlock, 210),
        GgmlType.Q8_K => (SuperBlock, 292),
        _ => null,
    };

    /// <summary>The name ggml prints for <paramref name="type"/> (its enum name, or the number when unknown).</summary>
    public static string NameOf(GgmlType type) => Enum.IsDefined(type) ? type.ToString() : $"type {(int)type}";

    /// <summary>
    /// Dequantizes whole blocks of <paramref name="type"/> from <paramref name="source"/> into <paramref name="destination"/>,
    /// which holds exactly the blocks' values.
    /// </summary>
    public static void Dequantize(GgmlType type, ReadOnlySpan<byte> source, Span<float> destination)
    {
        (int values, int bytes) = BlockOf(type) is { } block && Dequantizable.Contains(type)
            ? block
            : throw new NotSupportedException($"Tensor type {NameOf(type)} cannot be dequantized; {string.Join(", ", Dequantizable.Select(NameOf))} can.");
        if (source.Length % bytes != 0 || (long)source.Length / bytes * values != destination.Length)
        {
            throw new ArgumentException($"{source.Length} bytes of {NameOf(type)} are not the {destination.Length} values asked for.", nameof(source));
        }

        // Plain floats convert in one pass; the block loop below is for the quantized types.
        switch (type)
        {
            case GgmlType.F32 when BitConverter.IsLittleEndian:
                MemoryMarshal.Cast<byte, float>(source).CopyTo(destination);
                return;
            case GgmlType.F16:
                for (int i = 0; i < destination.Length; i++)
                {
                    destination[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(source[(2 * i)..]);
                }

                return;
            case GgmlType.BF16:
                for (int i = 0; i < destination.Length; i++)
                {
                    destination[i] = BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(source[(2 * i)..]) << 16);
                }

                return;
        }

        int blocks = source.Length / bytes;
        for (int b = 0; b < blocks; b++)
        {
            ReadOnlySpan<byte> x = source.Slice(b * bytes, bytes);
            Span<float> y = destination.Slice(b * values, values);
            switch (type)
            {
                case GgmlType.F32:
                    y[0] = BinaryPrimitives.ReadSingleLittleEndian(x);
                    break;
                case GgmlType.Q4_0:
                    Q4_0(x, y);
                    break;
                case GgmlType.Q4_1:
                    Q4_1(x, y);
                    break;
                case GgmlType.Q5_0:
                    Q5(x, y, hasMin: false);
                    break;
                case GgmlType.Q5_1:
                    Q5(x, y, hasMin: true);
                    break;
                case GgmlType.Q8_0:
                    Q8_0(x, y);
                    break;
                case GgmlType.Q4_K:
                    Q4_K(x, y);
                    break;
                case GgmlType.Q5_K:
                    Q5_K(x, y);
                    break;
                default:
                    Q6_K(x, y);
                    break;
            }
        }
    }

    private static float Half(ReadOnlySpan<byte> bytes) => (float)BinaryPrimitives.ReadHalfLittleEndian(bytes);

    // block_q4_0 { half d; uint8 qs[16]; }: value j is (low nibble of qs[j]) - 8, value j + 16 the high nibble.
    private static void Q4_0(ReadOnlySpan<byte> x, Span<float> y)
    {
        float d = Half(x);
        ReadOnlySpan<byte> qs = x[2..];
        for (int j = 0; j < 16; j++)
        {
            y[j] = ((qs[j] & 0x0F) - 8) * d;
            y[j + 16] = ((qs[j] >> 4) - 8) * d;
        }
    }

    // block_q4_1 { half d; half m; uint8 qs[16]; }: q * d + m.
    private static void Q4_1(ReadOnlySpan<byte> x, Span<float> y)
    {
        float d = Half(x), m = Half(x[2..]);
        ReadOnlySpan<byte> qs = x[4..];
        for (int j = 0; j < 16; j++)
        {
            y[j] = (qs[j] & 0x0F) * d + m;
            y[j + 16] = (qs[j] >> 4) * d + m;
        }
    }

    // block_q5_0 { half d; uint8 qh[4]; uint8 qs[16]; } and block_q5_1 { half d; half m; uint8 qh[4]; uint8 qs[16]; }:
    // bit j of qh is the fifth bit of value j, bit j + 16 that of value j + 16; q5_0 subtracts 16, q5_1 adds m.
    private static void Q5(ReadOnlySpan<byte> x, Span<float> y, bool hasMin)
    {
        float d = Half(x);
        float m = hasMin ? Half(x[2..]) : 0;
        int at = hasMin ? 4 : 2;
        uint qh = BinaryPrimitives.ReadUInt32LittleEndian(x[at..]);
        ReadOnlySpan<byte> qs = x[(at + 4)..];
        int offset = hasMin ? 0 : 16;
        for (int j = 0; j < 16; j++)
        {
            int high0 = (int)((qh >> j) << 4) & 0x10;
            int high1 = (int)(qh >> (j + 12)) & 0x10;
            int x0 = ((qs[j] & 0x0F) | high0) - offset;
            int x1 = ((qs[j] >> 4) | high1) - offset;
            y[j] = x0 * d + m;
            y[j + 16] = x1 * d + m;
        }
    }

    // block_q8_0 { half d; int8 qs[32]; }.
    private static void Q8_0(ReadOnlySpan<byte> x, Span<float> y)
    {
        float d = Half(x);
        for (int j = 0; j < 32; j++)
        {
            y[j] = (sbyte)x[2 + j] * d;
        }
    }

    /// <summary>ggml's <c>get_scale_min_k4</c>: the 6-bit scale and minimum of sub-block <paramref name="j"/> from the 12 packed bytes.</summary>
    private static (int Scale, int Min) ScaleMin(int j, ReadOnlySpan<byte> q) => j < 4
        ? (q[j] & 63, q[j + 4] & 63)
        : ((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4), (q[j + 4] >> 4) | ((q[j] >> 6) << 4));

    // block_q4_K { half d; half dmin; uint8 scales[12]; uint8 qs[128]; }: per 64 values, two sub-blocks of 32 share
    // 32 bytes (low nibbles the first, high nibbles the second); value = d * scale * q - dmin * min.
    private static void Q4_K(ReadOnlySpan<byte> x, Span<float> y)
    {
        float d = Half(x), min = Half(x[2..]);
        ReadOnlySpan<byte> scales = x.Slice(4, 12);
        ReadOnlySpan<byte> q = x[16..];
        int o = 0;
        for (int j = 0, sub = 0; j < SuperBlock; j += 64, sub += 2)
        {
            (int sc1, int m1) = ScaleMin(sub, scales);
            (int sc2, int m2) = ScaleMin(sub + 1, scales);
            float d1 = d * sc1, dm1 = min * m1, d2 = d * sc2, dm2 = min * m2;
            ReadOnlySpan<byte> qs = q.Slice(j / 2, 32);
            for (int l = 0; l < 32; l++)
            {
                y[o + l] = d1 * (qs[l] & 0xF) - dm1;
                y[o + 32 + l] = d2 * (qs[l] >> 4) - dm2;
            }

            o += 64;
        }
    }

    // block_q5_K { half d; half dmin; uint8 scales[12]; uint8 qh[32]; uint8 qs[128]; }: as Q4_K, and bit (2k, 2k + 1) of
    // qh[l] adds 16 to value l of the k-th pair of sub-blocks (first, second).
    private static void Q5_K(ReadOnlySpan<byte> x, Span<float> y)
    {
        float d = Half(x), min = Half(x[2..]);
        ReadOnlySpan<byte> scales = x.Slice(4, 12);
        ReadOnlySpan<byte> qh = x.Slice(16, 32);
        ReadOnlySpan<byte> q = x[48..];
        int o = 0, u1 = 1, u2 = 2;
        for (int j = 0, sub = 0; j < SuperBlock; j += 64, sub += 2)
        {
            (int sc1, int m1) = ScaleMin(sub, scales);
            (int sc2, int m2) = ScaleMin(sub + 1, scales);
            float d1 = d * sc1, dm1 = min * m1, d2 = d * sc2, dm2 = min * m2;
            ReadOnlySpan<byte> ql = q.Slice(j / 2, 32);
            for (int l = 0; l < 32; l++)
            {
                y[o + l] = d1 * ((ql[l] & 0xF) + ((qh[l] & u1) != 0 ? 16 : 0)) - dm1;
                y[o + 32 + l] = d2 * ((ql[l] >> 4) + ((qh[l] & u2) != 0 ? 16 : 0)) - dm2;
            }

            o += 64;
            u1 <<= 2;
            u2 <<= 2;
        }
    }

    // block_q6_K { uint8 ql[128]; uint8 qh[64]; int8 scales[16]; half d; }: per 128 values, 64 bytes of low nibbles and
    // 32 of high bit pairs; value = d * scale * (q - 32), one int8 scale per 16 values.
    private static void Q6_K(ReadOnlySpan<byte> x, Span<float> y)
    {
        float d = Half(x[208..]);
        for (int n = 0; n < 2; n++)
        {
            ReadOnlySpan<byte> ql = x.Slice(n * 64, 64);
            ReadOnlySpan<byte> qh = x.Slice(128 + n * 32, 32);
            ReadOnlySpan<byte> sc = x.Slice(192 + n * 8, 8);
            Span<float> o = y.Slice(n * 128, 128);
            for (int l = 0; l < 32; l++)
            {
                int s = l / 16;
                int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
                int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
                int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                o[l] = d * (sbyte)sc[s] * q1;
                o[l + 32] = d * (sbyte)sc[s + 2] * q2;
                o[l + 64] = d * (sbyte)sc[s + 4] * q3;
                o[l + 96] = d * (sbyte)sc[s + 6] * q4;
            }
        }
    }
}
