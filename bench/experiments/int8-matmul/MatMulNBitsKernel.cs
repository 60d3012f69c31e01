using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

using LlmAspire.Inference.Engine.Kernels;

namespace LlmAspire.Bench.Int8MatMul;

/// <summary>
/// An experiment, not part of the engine (docs/BENCHMARKS.md, "An int8 MatMul of our own"; the engine's is
/// <see cref="PackedMatMulNBitsKernel"/>, whose activation quantization and block sums this one shares):
/// <c>com.microsoft.MatMulNBits</c> for 8-bit weights on the CPU (<see cref="MatMulNBitsOperator"/>): float32 activations
/// [..., K] by a constant weight quantized in blocks of K, each block with a float scale and a uint8 zero point, as
/// ONNX Runtime's MLAS computes it at <c>accuracy_level</c> 4 — each block of an activation row is quantized to int8
/// with a scale of its own (max |a| / 127, rounded to nearest even), the integer dot products of a block are exact, and
/// a block adds <c>scale_a · scale_b · (Σ q_a · b − zero_point · Σ q_a)</c>.
/// <para>
/// The weight is repacked once, when the session creates the kernel, for <c>vpdpbusd</c> (AVX-VNNI): groups of
/// <see cref="Group"/> output columns, each 32 bytes holding four consecutive K of each of the group's columns, so one
/// instruction multiplies a broadcast of four activation bytes into eight columns. A tile of four activation rows by two
/// groups keeps eight integer and eight float accumulators in registers: each weight byte read feeds four rows.
/// </para>
/// <para>
/// The packed copy costs as much memory as the weight itself, which ONNX Runtime keeps (a custom operator cannot take
/// over an initializer the way MLAS's prepacking does).
/// </para>
/// </summary>
internal sealed unsafe class MatMulNBitsKernel : ICustomKernel, IDisposable
{
    /// <summary>Output columns per 8-lane group.</summary>
    public const int Group = 8;

    /// <summary>Output columns per parallel item: four groups.</summary>
    public const int Panel = 4 * Group;

    /// <summary>Activation rows per parallel item.</summary>
    private const int RowBlock = 64;

    /// <summary>Below this many multiply-adds a call runs on the calling thread (dispatch costs more than it saves).</summary>
    private const long InlineWork = 1 << 16;

    private byte* _packed;
    private float* _scales;
    private byte* _zeroPoints;
    private float* _bias;

    /// <summary>
    /// Packs <paramref name="weight"/> ([N][K / blockSize][blockSize] uint8, MatMulNBits's layout), its
    /// <paramref name="scales"/> ([N][K / blockSize]) and <paramref name="zeroPoints"/> ([N][K / blockSize]; null: 128).
    /// </summary>
    public MatMulNBitsKernel(byte* weight, float* scales, byte* zeroPoints, float* bias, int k, int n, int blockSize)
    {
        if (k <= 0 || n <= 0 || blockSize < 16 || (blockSize & (blockSize - 1)) != 0 || k % blockSize != 0)
        {
            throw new ArgumentException($"LlmAspire's MatMulNBits kernel takes K a multiple of a power-of-two block_size of at least 16; this node has K {k}, block_size {blockSize}.");
        }

        K = k;
        N = n;
        BlockSize = blockSize;
        Blocks = k / blockSize;
        Panels = (n + Panel - 1) / Panel;
        int groups = Panels * (Panel / Group);
        _packed = (byte*)NativeMemory.AlignedAlloc((nuint)groups * (nuint)k * Group, 64);
        _scales = (float*)NativeMemory.AlignedAlloc((nuint)groups * (nuint)Blocks * Group * sizeof(float), 64);
        _zeroPoints = (byte*)NativeMemory.AlignedAlloc((nuint)groups * (nuint)Blocks * Group, 64);
        for (int g = 0; g < groups; g++)
        {
            byte* panel = _packed + ((long)g * k * Group);
            for (int j = 0; j < Group; j++)
            {
                int column = (g * Group) + j;
                bool real = column < n;
                byte* source = weight + ((long)column * k);
                for (int quad = 0; quad < k / 4; quad++)
                {
                    uint value = real ? *(uint*)(source + (quad * 4)) : 0u;
                    *(uint*)(panel + (quad * 32) + (j * 4)) = value;
                }

                for (int b = 0; b < Blocks; b++)
                {
                    long at = (((long)g * Blocks) + b) * Group;
                    _scales[at + j] = real ? scales[((long)column * Blocks) + b] : 0f;
                    _zeroPoints[at + j] = !real ? (byte)0 : zeroPoints is null ? (byte)128 : zeroPoints[((long)column * Blocks) + b];
                }
            }
        }

        if (bias is not null)
        {
            _bias = (float*)NativeMemory.AlignedAlloc((nuint)n * sizeof(float), 64);
            new ReadOnlySpan<float>(bias, n).CopyTo(new Span<float>(_bias, n));
        }
    }

    /// <summary>The weight's rows: the activations' last dimension.</summary>
    public int K { get; }

    /// <summary>The weight's columns: the output's last dimension.</summary>
    public int N { get; }

    /// <summary>K per quantization block.</summary>
    public int BlockSize { get; }

    /// <summary>Quantization blocks along K.</summary>
    public int Blocks { get; }

    /// <summary>Panels of <see cref="Panel"/> columns (the last padded with zero columns).</summary>
    public int Panels { get; }

    /// <summary>Whether this machine runs the kernel: AVX-VNNI for the integer products, AVX-512 for quantizing activations.</summary>
    public static bool IsSupported => AvxVnni.IsSupported && Avx512F.IsSupported && Avx512BW.IsSupported && Fma.IsSupported;

    /// <summary>The ONNX Runtime kernel call: input 0 is the activations, [..., K]; output 0 is [..., N].</summary>
    public void Compute(IntPtr context)
    {
        IntPtr input = OrtApiTable.Input(context, 0);
        Span<long> shape = stackalloc long[8];
        (int type, int rank) = OrtApiTable.Shape(input, shape);
        if (type != OrtApiTable.ElementFloat || rank < 1 || shape[rank - 1] != K)
        {
            throw new InvalidOperationException($"MatMulNBits expects float32 activations [..., {K}]; it was given rank {rank} with last dimension {(rank > 0 ? shape[rank - 1] : 0)}.");
        }

        long rows = 1;
        for (int i = 0; i < rank - 1; i++)
        {
            rows *= shape[i];
        }

        shape[rank - 1] = N;
        float* output = (float*)OrtApiTable.Data(OrtApiTable.Output(context, 0, shape[..rank]));
        if (rows > 0)
        {
            Multiply((float*)OrtApiTable.Data(input), checked((int)rows), output, context);
        }
    }

    /// <summary>
    /// <paramref name="a"/> [<paramref name="m"/>, K] by the weight into <paramref name="c"/> [m, N]; on the session's
    /// intra-op threads when <paramref name="context"/> is a kernel context, else on the calling thread (tests).
    /// </summary>
    public void Multiply(float* a, int m, float* c, IntPtr context = default)
    {
        // The quantized activations: int8 rows of K, then per row and block the scale and the scale times Σ q.
        long quantBytes = (((long)m * K) + 63) & ~63L;
        byte* scratch = (byte*)NativeMemory.AlignedAlloc((nuint)(quantBytes + (2L * m * Blocks * sizeof(float))), 64);
        try
        {
            var job = new Job
            {
                A = (sbyte*)scratch,
                RowScales = (float*)(scratch + quantBytes),
                RowSums = (float*)(scratch + quantBytes) + ((long)m * Blocks),
                C = c,
                Packed = _packed,
                Scales = _scales,
                ZeroPoints = _zeroPoints,
                Bias = _bias,
                M = m,
                K = K,
                N = N,
                BlockSize = BlockSize,
                Blocks = Blocks,
                Panels = Panels,
                RowBlocks = (m + RowBlock - 1) / RowBlock,
            };
            for (int row = 0; row < m; row++)
            {
                PackedMatMulNBitsKernel.QuantizeRow(a + ((long)row * K), K, BlockSize, job.A + ((long)row * K), job.RowScales + ((long)row * Blocks), job.RowSums + ((long)row * Blocks));
            }

            int items = job.Panels * job.RowBlocks;
            if (context == IntPtr.Zero || (long)m * K * N < InlineWork || items == 1)
            {
                for (int i = 0; i < items; i++)
                {
                    RunItem(ref job, i);
                }
            }
            else
            {
                OrtApiTable.ParallelFor(context, &Work, items, &job);
                if (job.Failed != 0)
                {
                    throw new InvalidOperationException("A parallel MatMulNBits item failed.");
                }
            }
        }
        finally
        {
            NativeMemory.AlignedFree(scratch);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        NativeMemory.AlignedFree(_packed);
        NativeMemory.AlignedFree(_scales);
        NativeMemory.AlignedFree(_zeroPoints);
        NativeMemory.AlignedFree(_bias);
        _packed = null;
        _scales = null;
        _zeroPoints = null;
        _bias = null;
    }

    [UnmanagedCallersOnly]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Work(void* state, nuint index)
    {
        try
        {
            RunItem(ref Unsafe.AsRef<Job>(state), (int)index);
        }
        catch
        {
            ((Job*)state)->Failed = 1;
        }
    }

    /// <summary>One panel of four groups for one block of rows: four rows by two groups at a time, then single rows by four.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunItem(ref Job job, int item)
    {
        int panel = item % job.Panels;
        int rowBlock = item / job.Panels;
        int first = rowBlock * RowBlock, last = Math.Min(job.M, first + RowBlock);
        int firstGroup = panel * (Panel / Group);
        float* tile = stackalloc float[4 * Panel];
        int row = first;
        // The next panel's weights (four groups, K / 2 cache lines), fetched during this item's first four passes.
        int groupsTotal = (job.N + Group - 1) / Group;
        byte* next = Prefetch && firstGroup + 4 < groupsTotal ? job.Packed + ((long)(firstGroup + 4) * job.K * Group) : null;
        int nextLines = next == null ? 0 : (int)(Math.Min(4, groupsTotal - firstGroup - 4) * (long)job.K * Group / 64);
        int call = 0;
        for (; row + 4 <= last; row += 4)
        {
            for (int half = 0; half < 2; half++)
            {
                int group = firstGroup + (2 * half);
                int column = group * Group;
                int columns = Math.Min(2 * Group, job.N - column);
                if (columns <= 0)
                {
                    break;
                }

                bool direct = columns == 2 * Group;
                byte* fetch = call < 4 && next != null ? next + ((long)call * (nextLines / 4) * 64) : null;
                call++;
                Four(ref job, row, group, direct ? job.C + ((long)row * job.N) + column : tile, direct ? job.N : 2 * Group, fetch, nextLines / 4);
                if (!direct)
                {
                    Spill(tile, 4, 2 * Group, columns, job.C + ((long)row * job.N) + column, job.N);
                }
            }
        }

        for (; row < last; row++)
        {
            int column = firstGroup * Group;
            int columns = Math.Min(Panel, job.N - column);
            bool direct = columns == Panel;
            One(ref job, row, firstGroup, direct ? job.C + ((long)row * job.N) + column : tile);
            if (!direct)
            {
                Spill(tile, 1, Panel, columns, job.C + ((long)row * job.N) + column, job.N);
            }
        }

        if (job.Bias != null)
        {
            int column = firstGroup * Group;
            int columns = Math.Min(Panel, job.N - column);
            for (int r = first; r < last; r++)
            {
                float* c = job.C + ((long)r * job.N) + column;
                for (int j = 0; j < columns; j++)
                {
                    c[j] += job.Bias[column + j];
                }
            }
        }
    }

    private static void Spill(float* tile, int rows, int width, int columns, float* c, int ldc)
    {
        for (int r = 0; r < rows; r++)
        {
            new ReadOnlySpan<float>(tile + (r * width), columns).CopyTo(new Span<float>(c + ((long)r * ldc), columns));
        }
    }

    /// <summary>Four rows from <paramref name="row"/> by groups <paramref name="group"/> and the next, into <paramref name="c"/> (stride <paramref name="ldc"/>).</summary>
    public static bool Prefetch;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]

    private static void Four(ref Job job, int row, int group, float* c, int ldc, byte* fetch, int fetchLines)
    {
        int k = job.K, blocks = job.Blocks, quads = job.BlockSize / 4;
        byte* b0 = job.Packed + ((long)group * k * Group);
        byte* b1 = b0 + ((long)k * Group);
        sbyte* a0 = job.A + ((long)row * k);
        sbyte* a1 = a0 + k, a2 = a1 + k, a3 = a2 + k;
        float* rowScales = job.RowScales + ((long)row * blocks);
        float* rowSums = job.RowSums + ((long)row * blocks);
        float* s0 = job.Scales + ((long)group * blocks * Group);
        float* s1 = s0 + ((long)blocks * Group);
        byte* z0 = job.ZeroPoints + ((long)group * blocks * Group);
        byte* z1 = z0 + ((long)blocks * Group);
        Vector256<float> f00 = default, f01 = default, f10 = default, f11 = default, f20 = default, f21 = default, f30 = default, f31 = default;
        for (int blk = 0; blk < blocks; blk++)
        {
            Vector256<int> i00 = default, i01 = default, i10 = default, i11 = default, i20 = default, i21 = default, i30 = default, i31 = default;
            int start = blk * quads;
            for (int q = start; q < start + quads; q++)
            {
                if (fetch != null && (q & 1) == 0 && fetchLines > 0)
                {
                    Sse.Prefetch1(fetch);
                    fetch += 64;
                    fetchLines--;
                }

                Vector256<byte> w0 = Vector256.Load(b0 + (q * 32));
                Vector256<byte> w1 = Vector256.Load(b1 + (q * 32));
                Vector256<sbyte> x = Vector256.Create(*(int*)(a0 + (q * 4))).AsSByte();
                i00 = AvxVnni.MultiplyWideningAndAdd(i00, w0, x);
                i01 = AvxVnni.MultiplyWideningAndAdd(i01, w1, x);
                x = Vector256.Create(*(int*)(a1 + (q * 4))).AsSByte();
                i10 = AvxVnni.MultiplyWideningAndAdd(i10, w0, x);
                i11 = AvxVnni.MultiplyWideningAndAdd(i11, w1, x);
                x = Vector256.Create(*(int*)(a2 + (q * 4))).AsSByte();
                i20 = AvxVnni.MultiplyWideningAndAdd(i20, w0, x);
                i21 = AvxVnni.MultiplyWideningAndAdd(i21, w1, x);
                x = Vector256.Create(*(int*)(a3 + (q * 4))).AsSByte();
                i30 = AvxVnni.MultiplyWideningAndAdd(i30, w0, x);
                i31 = AvxVnni.MultiplyWideningAndAdd(i31, w1, x);
            }

            Vector256<float> scale0 = Vector256.Load(s0 + (blk * Group));
            Vector256<float> scale1 = Vector256.Load(s1 + (blk * Group));
            Vector256<float> zero0 = PackedMatMulNBitsKernel.ScaledZeroPoints(z0 + (blk * Group), scale0);
            Vector256<float> zero1 = PackedMatMulNBitsKernel.ScaledZeroPoints(z1 + (blk * Group), scale1);
            f00 = PackedMatMulNBitsKernel.Accumulate(f00, i00, scale0, zero0, rowScales[blk], rowSums[blk]);
            f01 = PackedMatMulNBitsKernel.Accumulate(f01, i01, scale1, zero1, rowScales[blk], rowSums[blk]);
            f10 = PackedMatMulNBitsKernel.Accumulate(f10, i10, scale0, zero0, rowScales[blocks + blk], rowSums[blocks + blk]);
            f11 = PackedMatMulNBitsKernel.Accumulate(f11, i11, scale1, zero1, rowScales[blocks + blk], rowSums[blocks + blk]);
            f20 = PackedMatMulNBitsKernel.Accumulate(f20, i20, scale0, zero0, rowScales[(2 * blocks) + blk], rowSums[(2 * blocks) + blk]);
            f21 = PackedMatMulNBitsKernel.Accumulate(f21, i21, scale1, zero1, rowScales[(2 * blocks) + blk], rowSums[(2 * blocks) + blk]);
            f30 = PackedMatMulNBitsKernel.Accumulate(f30, i30, scale0, zero0, rowScales[(3 * blocks) + blk], rowSums[(3 * blocks) + blk]);
            f31 = PackedMatMulNBitsKernel.Accumulate(f31, i31, scale1, zero1, rowScales[(3 * blocks) + blk], rowSums[(3 * blocks) + blk]);
        }

        f00.Store(c);
        f01.Store(c + Group);
        f10.Store(c + ldc);
        f11.Store(c + ldc + Group);
        f20.Store(c + (2L * ldc));
        f21.Store(c + (2L * ldc) + Group);
        f30.Store(c + (3L * ldc));
        f31.Store(c + (3L * ldc) + Group);
    }

    /// <summary>One row by the four groups from <paramref name="group"/>, into <paramref name="c"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void One(ref Job job, int row, int group, float* c)
    {
        int k = job.K, blocks = job.Blocks, quads = job.BlockSize / 4;
        long groupBytes = (long)k * Group;
        byte* b0 = job.Packed + ((long)group * groupBytes);
        byte* b1 = b0 + groupBytes, b2 = b1 + groupBytes, b3 = b2 + groupBytes;
        sbyte* a = job.A + ((long)row * k);
        float* rowScales = job.RowScales + ((long)row * blocks);
        float* rowSums = job.RowSums + ((long)row * blocks);
        long groupScales = (long)blocks * Group;
        float* s0 = job.Scales + ((long)group * groupScales);
        byte* z0 = job.ZeroPoints + ((long)group * groupScales);
        Vector256<float> f0 = default, f1 = default, f2 = default, f3 = default;
        for (int blk = 0; blk < blocks; blk++)
        {
            Vector256<int> i0 = default, i1 = default, i2 = default, i3 = default;
            int start = blk * quads;
            for (int q = start; q < start + quads; q++)
            {
                Vector256<sbyte> x = Vector256.Create(*(int*)(a + (q * 4))).AsSByte();
                i0 = AvxVnni.MultiplyWideningAndAdd(i0, Vector256.Load(b0 + (q * 32)), x);
                i1 = AvxVnni.MultiplyWideningAndAdd(i1, Vector256.Load(b1 + (q * 32)), x);
                i2 = AvxVnni.MultiplyWideningAndAdd(i2, Vector256.Load(b2 + (q * 32)), x);
                i3 = AvxVnni.MultiplyWideningAndAdd(i3, Vector256.Load(b3 + (q * 32)), x);
            }

            float rowScale = rowScales[blk], rowSum = rowSums[blk];
            long at = blk * Group;
            Vector256<float> scale = Vector256.Load(s0 + at);
            f0 = PackedMatMulNBitsKernel.Accumulate(f0, i0, scale, PackedMatMulNBitsKernel.ScaledZeroPoints(z0 + at, scale), rowScale, rowSum);
            scale = Vector256.Load(s0 + groupScales + at);
            f1 = PackedMatMulNBitsKernel.Accumulate(f1, i1, scale, PackedMatMulNBitsKernel.ScaledZeroPoints(z0 + groupScales + at, scale), rowScale, rowSum);
            scale = Vector256.Load(s0 + (2 * groupScales) + at);
            f2 = PackedMatMulNBitsKernel.Accumulate(f2, i2, scale, PackedMatMulNBitsKernel.ScaledZeroPoints(z0 + (2 * groupScales) + at, scale), rowScale, rowSum);
            scale = Vector256.Load(s0 + (3 * groupScales) + at);
            f3 = PackedMatMulNBitsKernel.Accumulate(f3, i3, scale, PackedMatMulNBitsKernel.ScaledZeroPoints(z0 + (3 * groupScales) + at, scale), rowScale, rowSum);
        }

        f0.Store(c);
        f1.Store(c + Group);
        f2.Store(c + (2 * Group));
        f3.Store(c + (3 * Group));
    }

    private struct Job
    {
        public sbyte* A;
        public float* RowScales;
        public float* RowSums;
        public float* C;
        public byte* Packed;
        public float* Scales;
        public byte* ZeroPoints;
        public float* Bias;
        public int M;
        public int K;
        public int N;
        public int BlockSize;
        public int Blocks;
        public int Panels;
        public int RowBlocks;
        public int Failed;
    }
}
