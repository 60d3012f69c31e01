using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace LlmAspire.Inference.Engine.Kernels;

/// <summary>
/// <c>com.llmaspire.PackedMatMulNBits</c>: float32 activations [..., K] times an 8-bit block-quantized weight that
/// <see cref="PackedMatMulRewriter"/> repacked from a <c>com.microsoft.MatMulNBits</c> node (<c>bits</c> 8,
/// <c>accuracy_level</c> 4), into [..., N] (attribute <c>N</c>; <c>block_size</c> as the node's). The model folder on
/// disk keeps the <c>MatMulNBits</c>.
/// <para>
/// It computes what ONNX Runtime's MLAS does at <c>accuracy_level</c> 4 (<c>CompInt8</c>): each block of an activation
/// row is quantized to int8 with a scale of its own (max |a| / 127, rounded to nearest even), a block's integer dot
/// products are exact, and it adds <c>scale_a · scale_b · Σ q_a·b − (scale_a · Σ q_a) · (scale_b · zero_point)</c>.
/// The sums are floats added in another order than MLAS's, so outputs differ from its in the last bits (a few 1e-6 of
/// outputs of magnitude 4, `PackedMatMulNBitsKernelTests`), well inside the quantization's own error.
/// </para>
/// <para>
/// Layout, for <c>vpdpbusd</c> (AVX-VNNI): groups of <see cref="Group"/> output columns, 32 bytes per K step of four —
/// four consecutive K of each of the group's columns — so one instruction multiplies a broadcast of four activation
/// bytes into eight columns; four groups make a panel of <see cref="Panel"/> columns, the parallel item, stored K step
/// by K step (128 bytes each: the four groups' 32), so one row reads a panel as one stream and the next panel follows
/// (weight [panels, K, 32]; scales and zero points [panels, 4, blocks, 8]; padded columns have scale and zero point 0).
/// Four activation rows by two groups keep eight integer and eight float accumulators, so each weight byte read feeds
/// four rows; and, as <see cref="PackedMatMulKernel"/>, the first four passes over a panel fetch the next panel
/// (<c>prefetcht1</c>), so reading and computing overlap: on the 100M int8 model, 2 threads, the 48 weight MatMuls took
/// 8.1–8.8 ms at 16 rows against MLAS's 9.6–10.2 ms (docs/BENCHMARKS.md, "Eighth pass").
/// </para>
/// </summary>
internal sealed unsafe class PackedMatMulNBitsKernel : ICustomKernel
{
    /// <summary>The operator's name (in <see cref="PackedMatMulKernel.Domain"/>).</summary>
    public const string Name = "PackedMatMulNBits";

    /// <summary>Output columns per 8-lane group.</summary>
    public const int Group = 8;

    /// <summary>Output columns per panel, the parallel item: four groups.</summary>
    public const int Panel = 4 * Group;

    /// <summary>Activation rows per parallel item.</summary>
    private const int RowBlock = 64;

    /// <summary>Below this many multiply-adds a call runs on the calling thread (waking a worker costs more).</summary>
    private const long InlineWork = 1L << 16;

    // A, packed B, packed scales, packed zero points, bias (optional).
    private static readonly CustomOperatorSlot[] Slots =
    [
        new(OrtApiTable.ElementFloat),
        new(OrtApiTable.ElementUInt8),
        new(OrtApiTable.ElementFloat),
        new(OrtApiTable.ElementUInt8),
        new(OrtApiTable.ElementFloat, Optional: true),
    ];

    private static readonly CustomOperatorSlot[] OutputSlots = [new(OrtApiTable.ElementFloat)];

    private readonly byte* _packed;
    private readonly float* _scales;
    private readonly byte* _zeroPoints;
    private readonly float* _bias;

    private PackedMatMulNBitsKernel(byte* packed, float* scales, byte* zeroPoints, float* bias, int k, int n, int blockSize)
    {
        _packed = packed;
        _scales = scales;
        _zeroPoints = zeroPoints;
        _bias = bias;
        K = k;
        N = n;
        BlockSize = blockSize;
        Blocks = k / blockSize;
        Panels = PanelCount(n);
    }

    /// <summary>Whether this machine runs the kernel: AVX-VNNI for the integer products, AVX-512 for quantizing activations.</summary>
    public static bool IsSupported =>
        AvxVnni.IsSupported && Avx512F.IsSupported && Avx512BW.IsSupported && Fma.IsSupported && Vector512.IsHardwareAccelerated;

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

    /// <summary>Panels of <see cref="Panel"/> columns for <paramref name="n"/> columns.</summary>
    public static int PanelCount(int n) => (n + Panel - 1) / Panel;

    /// <summary>Whether a weight of <paramref name="k"/> rows in blocks of <paramref name="blockSize"/> is one the kernel takes.</summary>
    public static bool Takes(long k, long blockSize) =>
        blockSize >= 16 && (blockSize & (blockSize - 1)) == 0 && k > 0 && k <= int.MaxValue / Panel && k % blockSize == 0;

    /// <summary>The operator, for <see cref="LlmAspireKernels"/>.</summary>
    public static CustomOperator Create() => new(Name, Slots, OutputSlots, CreateKernel);

    /// <summary>
    /// Packs a MatMulNBits weight — <paramref name="weight"/> [N, K / blockSize, blockSize] uint8, <paramref name="scales"/>
    /// [N, K / blockSize], <paramref name="zeroPoints"/> [N, K / blockSize] (empty: 128, the operator's default for 8 bits)
    /// — into <paramref name="packed"/> [panels, K, 32], <paramref name="packedScales"/> and
    /// <paramref name="packedZeroPoints"/> [panels, 4, blocks, 8].
    /// </summary>
    public static void Pack(ReadOnlySpan<byte> weight, ReadOnlySpan<float> scales, ReadOnlySpan<byte> zeroPoints, int k, int n, int blockSize, Span<byte> packed, Span<float> packedScales, Span<byte> packedZeroPoints)
    {
        int blocks = k / blockSize;
        int groups = PanelCount(n) * 4;
        if (!Takes(k, blockSize) || weight.Length != (long)n * k || scales.Length != (long)n * blocks
            || (zeroPoints.Length != 0 && zeroPoints.Length != (long)n * blocks)
            || packed.Length != (long)groups * k * Group || packedScales.Length != (long)groups * blocks * Group || packedZeroPoints.Length != packedScales.Length)
        {
            throw new ArgumentException($"An 8-bit [K {k}, N {n}] weight in blocks of {blockSize} packs into {(long)groups * k * Group} bytes; the sizes given do not match.");
        }

        ReadOnlySpan<uint> words = MemoryMarshal.Cast<byte, uint>(weight);
        Span<uint> target = MemoryMarshal.Cast<byte, uint>(packed);
        for (int g = 0; g < groups; g++)
        {
            for (int j = 0; j < Group; j++)
            {
                int column = (g * Group) + j;
                bool real = column < n;
                for (int quad = 0; quad < k / 4; quad++)
                {
                    target[checked((((((g / 4 * (k / 4)) + quad) * 4) + (g % 4)) * Group) + j)] = real ? words[checked((column * (k / 4)) + quad)] : 0u;
                }

                for (int b = 0; b < blocks; b++)
                {
                    int at = checked((((g * blocks) + b) * Group) + j);
                    packedScales[at] = real ? scales[(column * blocks) + b] : 0f;
                    packedZeroPoints[at] = !real ? (byte)0 : zeroPoints.IsEmpty ? (byte)128 : zeroPoints[(column * blocks) + b];
                }
            }
        }
    }

    /// <summary>The ONNX Runtime kernel call: input 0 is the activations, [..., K]; output 0 is [..., N].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Compute(IntPtr context)
    {
        IntPtr input = OrtApiTable.Input(context, 0);
        Span<long> shape = stackalloc long[8];
        (_, int rank) = OrtApiTable.Shape(input, shape);
        if (rank < 1 || shape[rank - 1] != K)
        {
            throw new InvalidOperationException($"PackedMatMulNBits expects activations [..., {K}]; it was given rank {rank} with last dimension {(rank > 0 ? shape[rank - 1] : 0)}.");
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
    /// intra-op threads when <paramref name="context"/> is a kernel context, else on the calling thread.
    /// </summary>
    private void Multiply(float* a, int m, float* c, IntPtr context)
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
                QuantizeRow(a + ((long)row * K), K, BlockSize, job.A + ((long)row * K), job.RowScales + ((long)row * Blocks), job.RowSums + ((long)row * Blocks));
            }

            int items = checked(job.Panels * job.RowBlocks);
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
                    throw new InvalidOperationException("A parallel PackedMatMulNBits item failed.");
                }
            }
        }
        finally
        {
            NativeMemory.AlignedFree(scratch);
        }
    }

    private static PackedMatMulNBitsKernel CreateKernel(IntPtr info)
    {
        if (!IsSupported)
        {
            throw new NotSupportedException("PackedMatMulNBits needs AVX-VNNI and AVX-512.");
        }

        IntPtr weight = OrtApiTable.ConstantInput(info, 1);
        IntPtr scales = OrtApiTable.ConstantInput(info, 2);
        IntPtr zeroPoints = OrtApiTable.ConstantInput(info, 3);
        IntPtr bias = OrtApiTable.ConstantInput(info, 4);
        if (weight == IntPtr.Zero || scales == IntPtr.Zero || zeroPoints == IntPtr.Zero)
        {
            throw new NotSupportedException("PackedMatMulNBits takes its packed weight, scales and zero points as constant initializers.");
        }

        long n = OrtApiTable.AttributeInt64(info, "N", 0);
        long blockSize = OrtApiTable.AttributeInt64(info, "block_size", 0);
        Span<long> shape = stackalloc long[8];
        (_, int rank) = OrtApiTable.Shape(weight, shape);
        long k = rank == 3 ? shape[1] : 0;
        if (rank != 3 || shape[2] != Panel || n <= 0 || n > int.MaxValue || shape[0] != PanelCount((int)n) || !Takes(k, blockSize))
        {
            throw new NotSupportedException($"PackedMatMulNBits takes an 8-bit weight packed as [ceil(N / {Panel}), K, {Panel}], K a multiple of a power-of-two block_size of at least 16; this node's weight has rank {rank}, N {n}, block_size {blockSize}.");
        }

        long packedScales = shape[0] * 4 * (k / blockSize) * Group;
        if (Elements(scales, shape) != packedScales || Elements(zeroPoints, shape) != packedScales || (bias != IntPtr.Zero && Elements(bias, shape) != n))
        {
            throw new NotSupportedException($"PackedMatMulNBits takes scales and zero points of {packedScales} elements (and a bias of N); this node's do not match.");
        }

        return new PackedMatMulNBitsKernel(
            (byte*)OrtApiTable.Data(weight),
            (float*)OrtApiTable.Data(scales),
            (byte*)OrtApiTable.Data(zeroPoints),
            bias == IntPtr.Zero ? null : (float*)OrtApiTable.Data(bias),
            (int)k,
            (int)n,
            (int)blockSize);
    }

    private static long Elements(IntPtr value, Span<long> shape)
    {
        (_, int rank) = OrtApiTable.Shape(value, shape);
        long elements = 1;
        for (int i = 0; i < rank; i++)
        {
            elements *= shape[i];
        }

        return elements;
    }

    /// <summary>
    /// One activation row to int8, block by block as MLAS does (<c>QuantizeARow_CompInt8</c>): scale max |a| / 127,
    /// codes a · (127 / max |a|) rounded to nearest even; also each block's scale · Σ codes.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void QuantizeRow(float* a, int k, int blockSize, sbyte* codes, float* scales, float* scaledSums)
    {
        for (int start = 0, b = 0; start < k; start += blockSize, b++)
        {
            Vector512<float> max = Vector512<float>.Zero;
            for (int i = 0; i < blockSize; i += 16)
            {
                max = Vector512.Max(max, Vector512.Abs(Vector512.Load(a + start + i)));
            }

            float amax = MaxOf(Vector256.Max(max.GetLower(), max.GetUpper()));
            float scale = amax / 127f;
            float inverse = amax != 0f ? 127f / amax : 0f;
            Vector512<float> multiplier = Vector512.Create(inverse);
            Vector512<int> sum = Vector512<int>.Zero;
            for (int i = 0; i < blockSize; i += 16)
            {
                Vector512<int> rounded = Avx512F.ConvertToVector512Int32(Vector512.Load(a + start + i) * multiplier);
                sum += rounded;
                Avx512F.ConvertToVector128SByteWithSaturation(rounded).Store(codes + start + i);
            }

            scales[b] = scale;
            scaledSums[b] = scale * Vector512.Sum(sum);
        }
    }

    private static float MaxOf(Vector256<float> v)
    {
        Vector128<float> m = Vector128.Max(v.GetLower(), v.GetUpper());
        m = Vector128.Max(m, Vector128.Shuffle(m, Vector128.Create(2, 3, 0, 1)));
        m = Vector128.Max(m, Vector128.Shuffle(m, Vector128.Create(1, 0, 3, 2)));
        return m.ToScalar();
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

    /// <summary>
    /// One panel for one block of rows: four rows by two groups at a time (the first four such passes fetching the next
    /// panel, which follows this one in memory), then two rows and one by all four groups.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunItem(ref Job job, int item)
    {
        int panel = item % job.Panels;
        int rowBlock = item / job.Panels;
        int first = rowBlock * RowBlock, last = Math.Min(job.M, first + RowBlock);
        int firstGroup = panel * 4;
        int firstColumn = firstGroup * Group;
        float* tile = stackalloc float[4 * Panel];
        long panelBytes = (long)Panel * job.K;

        // A pass over two groups reads K / 2 cache lines, one per two K steps of four, and fetches as many of the next panel's.
        byte* next = panel + 1 < job.Panels ? job.Packed + ((panel + 1) * panelBytes) : null;
        int pass = 0;
        int row = first;
        for (; row + 4 <= last; row += 4)
        {
            for (int half = 0; half < 2; half++, pass++)
            {
                int column = firstColumn + (half * 2 * Group);
                int columns = Math.Min(2 * Group, job.N - column);
                if (columns <= 0)
                {
                    break;
                }

                byte* fetch = pass < 4 && next != null ? next + (pass * (panelBytes / 4)) : null;
                float* c = job.C + ((long)row * job.N) + column;
                if (columns == 2 * Group)
                {
                    Four(ref job, row, firstGroup + (2 * half), c, job.N, fetch);
                }
                else
                {
                    Four(ref job, row, firstGroup + (2 * half), tile, 2 * Group, fetch);
                    Spill(tile, 4, 2 * Group, columns, c, job.N);
                }
            }
        }

        int panelColumns = Math.Min(Panel, job.N - firstColumn);
        if (row + 2 <= last)
        {
            float* c = job.C + ((long)row * job.N) + firstColumn;
            if (panelColumns == Panel)
            {
                Two(ref job, row, firstGroup, c, job.N);
            }
            else
            {
                Two(ref job, row, firstGroup, tile, Panel);
                Spill(tile, 2, Panel, panelColumns, c, job.N);
            }

            row += 2;
        }

        for (; row < last; row++)
        {
            float* c = job.C + ((long)row * job.N) + firstColumn;
            if (panelColumns == Panel)
            {
                One(ref job, row, firstGroup, c);
            }
            else
            {
                One(ref job, row, firstGroup, tile);
                Spill(tile, 1, Panel, panelColumns, c, job.N);
            }
        }

        if (job.Bias != null)
        {
            for (int r = first; r < last; r++)
            {
                float* c = job.C + ((long)r * job.N) + firstColumn;
                for (int j = 0; j < panelColumns; j++)
                {
                    c[j] += job.Bias[firstColumn + j];
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

    /// <summary>The zero points of one group and block, as floats times the weight scales.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> ScaledZeroPoints(byte* zeroPoints, Vector256<float> scales) =>
        Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(Vector128.CreateScalarUnsafe(*(long*)zeroPoints).AsByte())) * scales;

    /// <summary>f + scale_a · scale_b · dot − (scale_a · Σ q_a) · (scale_b · zero_point).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> Accumulate(Vector256<float> f, Vector256<int> dot, Vector256<float> weightScales, Vector256<float> scaledZeroPoints, float rowScale, float rowSum) =>
        Fma.MultiplyAddNegated(scaledZeroPoints, Vector256.Create(rowSum), Fma.MultiplyAdd(Avx.ConvertToVector256Single(dot), weightScales * Vector256.Create(rowScale), f));

    /// <summary>
    /// Four rows from <paramref name="row"/> by groups <paramref name="group"/> and the next, into <paramref name="c"/>
    /// (stride <paramref name="ldc"/>); when <paramref name="fetch"/> is not null, one cache line from it per two K steps.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Four(ref Job job, int row, int group, float* c, int ldc, byte* fetch)
    {
        int k = job.K, blocks = job.Blocks, quads = job.BlockSize / 4;
        byte* b = job.Packed + ((long)(group / 4) * k * Panel) + (group % 4 * 32);
        sbyte* a = job.A + ((long)row * k);
        float* rowScales = job.RowScales + ((long)row * blocks);
        float* rowSums = job.RowSums + ((long)row * blocks);
        float* s0 = job.Scales + ((long)group * blocks * Group);
        float* s1 = s0 + ((long)blocks * Group);
        byte* z0 = job.ZeroPoints + ((long)group * blocks * Group);
        byte* z1 = z0 + ((long)blocks * Group);
        long k2 = 2L * k, k3 = 3L * k;
        Vector256<float> f00 = default, f01 = default, f10 = default, f11 = default, f20 = default, f21 = default, f30 = default, f31 = default;
        for (int blk = 0; blk < blocks; blk++)
        {
            Vector256<int> i00 = default, i01 = default, i10 = default, i11 = default, i20 = default, i21 = default, i30 = default, i31 = default;
            for (int q = 0; q < quads; q += 2, a += 8, b += 256)
            {
                if (fetch != null)
                {
                    Sse.Prefetch1(fetch);
                    fetch += 64;
                }

                Vector256<byte> w0 = Vector256.Load(b), w1 = Vector256.Load(b + 32);
                Vector256<sbyte> x = Vector256.Create(*(int*)a).AsSByte();
                i00 = AvxVnni.MultiplyWideningAndAdd(i00, w0, x);
                i01 = AvxVnni.MultiplyWideningAndAdd(i01, w1, x);
                x = Vector256.Create(*(int*)(a + k)).AsSByte();
                i10 = AvxVnni.MultiplyWideningAndAdd(i10, w0, x);
                i11 = AvxVnni.MultiplyWideningAndAdd(i11, w1, x);
                x = Vector256.Create(*(int*)(a + k2)).AsSByte();
                i20 = AvxVnni.MultiplyWideningAndAdd(i20, w0, x);
                i21 = AvxVnni.MultiplyWideningAndAdd(i21, w1, x);
                x = Vector256.Create(*(int*)(a + k3)).AsSByte();
                i30 = AvxVnni.MultiplyWideningAndAdd(i30, w0, x);
                i31 = AvxVnni.MultiplyWideningAndAdd(i31, w1, x);

                w0 = Vector256.Load(b + 128);
                w1 = Vector256.Load(b + 160);
                x = Vector256.Create(*(int*)(a + 4)).AsSByte();
                i00 = AvxVnni.MultiplyWideningAndAdd(i00, w0, x);
                i01 = AvxVnni.MultiplyWideningAndAdd(i01, w1, x);
                x = Vector256.Create(*(int*)(a + k + 4)).AsSByte();
                i10 = AvxVnni.MultiplyWideningAndAdd(i10, w0, x);
                i11 = AvxVnni.MultiplyWideningAndAdd(i11, w1, x);
                x = Vector256.Create(*(int*)(a + k2 + 4)).AsSByte();
                i20 = AvxVnni.MultiplyWideningAndAdd(i20, w0, x);
                i21 = AvxVnni.MultiplyWideningAndAdd(i21, w1, x);
                x = Vector256.Create(*(int*)(a + k3 + 4)).AsSByte();
                i30 = AvxVnni.MultiplyWideningAndAdd(i30, w0, x);
                i31 = AvxVnni.MultiplyWideningAndAdd(i31, w1, x);
            }

            Vector256<float> scale0 = Vector256.Load(s0), scale1 = Vector256.Load(s1);
            Vector256<float> zero0 = ScaledZeroPoints(z0, scale0), zero1 = ScaledZeroPoints(z1, scale1);
            f00 = Accumulate(f00, i00, scale0, zero0, rowScales[blk], rowSums[blk]);
            f01 = Accumulate(f01, i01, scale1, zero1, rowScales[blk], rowSums[blk]);
            f10 = Accumulate(f10, i10, scale0, zero0, rowScales[blocks + blk], rowSums[blocks + blk]);
            f11 = Accumulate(f11, i11, scale1, zero1, rowScales[blocks + blk], rowSums[blocks + blk]);
            f20 = Accumulate(f20, i20, scale0, zero0, rowScales[(2 * blocks) + blk], rowSums[(2 * blocks) + blk]);
            f21 = Accumulate(f21, i21, scale1, zero1, rowScales[(2 * blocks) + blk], rowSums[(2 * blocks) + blk]);
            f30 = Accumulate(f30, i30, scale0, zero0, rowScales[(3 * blocks) + blk], rowSums[(3 * blocks) + blk]);
            f31 = Accumulate(f31, i31, scale1, zero1, rowScales[(3 * blocks) + blk], rowSums[(3 * blocks) + blk]);
            s0 += Group;
            s1 += Group;
            z0 += Group;
            z1 += Group;
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

    /// <summary>Two rows from <paramref name="row"/> by the four groups from <paramref name="group"/>, into <paramref name="c"/> (stride <paramref name="ldc"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Two(ref Job job, int row, int group, float* c, int ldc)
    {
        int k = job.K, blocks = job.Blocks, quads = job.BlockSize / 4;
        byte* b = job.Packed + ((long)(group / 4) * k * Panel);
        sbyte* a = job.A + ((long)row * k);
        float* rowScales = job.RowScales + ((long)row * blocks);
        float* rowSums = job.RowSums + ((long)row * blocks);
        long groupScales = (long)blocks * Group;
        float* s = job.Scales + ((long)group * groupScales);
        byte* z = job.ZeroPoints + ((long)group * groupScales);
        Vector256<float> f0 = default, f1 = default, f2 = default, f3 = default, g0 = default, g1 = default, g2 = default, g3 = default;
        for (int blk = 0; blk < blocks; blk++)
        {
            Vector256<int> i0 = default, i1 = default, i2 = default, i3 = default, j0 = default, j1 = default, j2 = default, j3 = default;
            for (int q = 0; q < quads; q += 2, a += 8, b += 256)
            {
                Vector256<sbyte> x = Vector256.Create(*(int*)(a)).AsSByte();
                Vector256<sbyte> y = Vector256.Create(*(int*)(a + k)).AsSByte();
                Vector256<byte> w0 = Vector256.Load(b);
                Vector256<byte> w1 = Vector256.Load(b + 32);
                Vector256<byte> w2 = Vector256.Load(b + 64);
                Vector256<byte> w3 = Vector256.Load(b + 96);
                i0 = AvxVnni.MultiplyWideningAndAdd(i0, w0, x);
                j0 = AvxVnni.MultiplyWideningAndAdd(j0, w0, y);
                i1 = AvxVnni.MultiplyWideningAndAdd(i1, w1, x);
                j1 = AvxVnni.MultiplyWideningAndAdd(j1, w1, y);
                i2 = AvxVnni.MultiplyWideningAndAdd(i2, w2, x);
                j2 = AvxVnni.MultiplyWideningAndAdd(j2, w2, y);
                i3 = AvxVnni.MultiplyWideningAndAdd(i3, w3, x);
                j3 = AvxVnni.MultiplyWideningAndAdd(j3, w3, y);
                x = Vector256.Create(*(int*)(a + 4)).AsSByte();
                y = Vector256.Create(*(int*)(a + k + 4)).AsSByte();
                w0 = Vector256.Load(b + 128);
                w1 = Vector256.Load(b + 160);
                w2 = Vector256.Load(b + 192);
                w3 = Vector256.Load(b + 224);
                i0 = AvxVnni.MultiplyWideningAndAdd(i0, w0, x);
                j0 = AvxVnni.MultiplyWideningAndAdd(j0, w0, y);
                i1 = AvxVnni.MultiplyWideningAndAdd(i1, w1, x);
                j1 = AvxVnni.MultiplyWideningAndAdd(j1, w1, y);
                i2 = AvxVnni.MultiplyWideningAndAdd(i2, w2, x);
                j2 = AvxVnni.MultiplyWideningAndAdd(j2, w2, y);
                i3 = AvxVnni.MultiplyWideningAndAdd(i3, w3, x);
                j3 = AvxVnni.MultiplyWideningAndAdd(j3, w3, y);
            }

            float scaleX = rowScales[blk], sumX = rowSums[blk], scaleY = rowScales[blocks + blk], sumY = rowSums[blocks + blk];
            Vector256<float> scale = Vector256.Load(s), zero = ScaledZeroPoints(z, scale);
            f0 = Accumulate(f0, i0, scale, zero, scaleX, sumX);
            g0 = Accumulate(g0, j0, scale, zero, scaleY, sumY);
            scale = Vector256.Load(s + groupScales);
            zero = ScaledZeroPoints(z + groupScales, scale);
            f1 = Accumulate(f1, i1, scale, zero, scaleX, sumX);
            g1 = Accumulate(g1, j1, scale, zero, scaleY, sumY);
            scale = Vector256.Load(s + (2 * groupScales));
            zero = ScaledZeroPoints(z + (2 * groupScales), scale);
            f2 = Accumulate(f2, i2, scale, zero, scaleX, sumX);
            g2 = Accumulate(g2, j2, scale, zero, scaleY, sumY);
            scale = Vector256.Load(s + (3 * groupScales));
            zero = ScaledZeroPoints(z + (3 * groupScales), scale);
            f3 = Accumulate(f3, i3, scale, zero, scaleX, sumX);
            g3 = Accumulate(g3, j3, scale, zero, scaleY, sumY);
            s += Group;
            z += Group;
        }

        f0.Store(c);
        f1.Store(c + Group);
        f2.Store(c + (2 * Group));
        f3.Store(c + (3 * Group));
        g0.Store(c + ldc);
        g1.Store(c + ldc + Group);
        g2.Store(c + ldc + (2 * Group));
        g3.Store(c + ldc + (3 * Group));
    }

    /// <summary>One row by the four groups from <paramref name="group"/>, into <paramref name="c"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void One(ref Job job, int row, int group, float* c)
    {
        int k = job.K, blocks = job.Blocks, quads = job.BlockSize / 4;
        byte* b = job.Packed + ((long)(group / 4) * k * Panel);
        sbyte* a = job.A + ((long)row * k);
        float* rowScales = job.RowScales + ((long)row * blocks);
        float* rowSums = job.RowSums + ((long)row * blocks);
        long groupScales = (long)blocks * Group;
        float* s = job.Scales + ((long)group * groupScales);
        byte* z = job.ZeroPoints + ((long)group * groupScales);
        Vector256<float> f0 = default, f1 = default, f2 = default, f3 = default;
        for (int blk = 0; blk < blocks; blk++)
        {
            Vector256<int> i0 = default, i1 = default, i2 = default, i3 = default;
            for (int q = 0; q < quads; q += 4, a += 16, b += 512)
            {
                Vector256<sbyte> x = Vector256.Create(*(int*)a).AsSByte();
                i0 = AvxVnni.MultiplyWideningAndAdd(i0, Vector256.Load(b), x);
                i1 = AvxVnni.MultiplyWideningAndAdd(i1, Vector256.Load(b + 32), x);
                i2 = AvxVnni.MultiplyWideningAndAdd(i2, Vector256.Load(b + 64), x);
                i3 = AvxVnni.MultiplyWideningAndAdd(i3, Vector256.Load(b + 96), x);
                x = Vector256.Create(*(int*)(a + 4)).AsSByte();
                i0 = AvxVnni.MultiplyWideningAndAdd(i0, Vector256.Load(b + 128), x);
                i1 = AvxVnni.MultiplyWideningAndAdd(i1, Vector256.Load(b + 160), x);
                i2 = AvxVnni.MultiplyWideningAndAdd(i2, Vector256.Load(b + 192), x);
                i3 = AvxVnni.MultiplyWideningAndAdd(i3, Vector256.Load(b + 224), x);
                x = Vector256.Create(*(int*)(a + 8)).AsSByte();
                i0 = AvxVnni.MultiplyWideningAndAdd(i0, Vector256.Load(b + 256), x);
                i1 = AvxVnni.MultiplyWideningAndAdd(i1, Vector256.Load(b + 288), x);
                i2 = AvxVnni.MultiplyWideningAndAdd(i2, Vector256.Load(b + 320), x);
                i3 = AvxVnni.MultiplyWideningAndAdd(i3, Vector256.Load(b + 352), x);
                x = Vector256.Create(*(int*)(a + 12)).AsSByte();
                i0 = AvxVnni.MultiplyWideningAndAdd(i0, Vector256.Load(b + 384), x);
                i1 = AvxVnni.MultiplyWideningAndAdd(i1, Vector256.Load(b + 416), x);
                i2 = AvxVnni.MultiplyWideningAndAdd(i2, Vector256.Load(b + 448), x);
                i3 = AvxVnni.MultiplyWideningAndAdd(i3, Vector256.Load(b + 480), x);
            }

            float rowScale = rowScales[blk], rowSum = rowSums[blk];
            Vector256<float> scale = Vector256.Load(s);
            f0 = Accumulate(f0, i0, scale, ScaledZeroPoints(z, scale), rowScale, rowSum);
            scale = Vector256.Load(s + groupScales);
            f1 = Accumulate(f1, i1, scale, ScaledZeroPoints(z + groupScales, scale), rowScale, rowSum);
            scale = Vector256.Load(s + (2 * groupScales));
            f2 = Accumulate(f2, i2, scale, ScaledZeroPoints(z + (2 * groupScales), scale), rowScale, rowSum);
            scale = Vector256.Load(s + (3 * groupScales));
            f3 = Accumulate(f3, i3, scale, ScaledZeroPoints(z + (3 * groupScales), scale), rowScale, rowSum);
            s += Group;
            z += Group;
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
