using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace LlmAspire.Inference.Engine.Kernels;

/// <summary>
/// <c>com.llmaspire.PackedMatMul</c>: float32 activations [..., K] times a constant weight that
/// <see cref="PackedMatMulRewriter"/> stored packed ([⌈N / 64⌉, K, 64]: panels of <see cref="Width"/> columns, K-major,
/// the last panel padded with zeros), into [..., N] (attribute <c>N</c>). It takes the place of an ONNX <c>MatMul</c> by
/// a [K, N] initializer when our kernels run a CPU session; the model folder on disk keeps the <c>MatMul</c>.
/// <para>
/// Outputs equal ONNX Runtime's (MLAS's prepacked SGEMM) bit for bit: each output is summed over K in blocks of
/// <see cref="DepthBlock"/>, one fused multiply-add after another from zero, and each block's sum is added to the
/// output — MLAS's order for a prepacked weight (`PackedMatMulKernelTests`).
/// </para>
/// <para>
/// Why our own: at a few rows a decode step reads every weight once, and with several rows each block of a panel is
/// computed from cache for four rows at a time. MLAS's first pass over a block waits for memory and the later passes
/// leave the memory idle; here the passes over one block ask for the next block (<c>prefetcht1</c>, one cache line per
/// K step, spread over the first four passes), so computing and reading overlap. On the 100M float32 model, 2 threads,
/// the 48 weight MatMuls took 13–16 ms at 16 rows against MLAS's 16–20 ms (docs/BENCHMARKS.md).
/// </para>
/// </summary>
internal sealed unsafe class PackedMatMulKernel : ICustomKernel
{
    /// <summary>The operator's domain: ours, since the weight's layout is not ONNX's.</summary>
    public const string Domain = "com.llmaspire";

    /// <summary>The operator's name.</summary>
    public const string Name = "PackedMatMul";

    /// <summary>Columns per packed panel: four 16-float vectors.</summary>
    public const int Width = 64;

    /// <summary>K per block: MLAS's for a prepacked weight, which fixes the order of the sums.</summary>
    public const int DepthBlock = 256;

    /// <summary>Rows of the activations per parallel item.</summary>
    private const int RowBlock = 64;

    /// <summary>Below this many multiply-adds a call runs on the calling thread (waking a worker costs more).</summary>
    private const long InlineWork = 1L << 16;

    private static readonly CustomOperatorSlot[] Slots = [new(OrtApiTable.ElementFloat), new(OrtApiTable.ElementFloat)];

    private static readonly CustomOperatorSlot[] OutputSlots = [new(OrtApiTable.ElementFloat)];

    private readonly float* _packed;

    private PackedMatMulKernel(float* packed, int k, int n)
    {
        _packed = packed;
        K = k;
        N = n;
        Panels = PanelCount(n);
    }

    /// <summary>Whether this machine runs the kernel: it is written for AVX-512 (16-float vectors).</summary>
    public static bool IsSupported => Vector512.IsHardwareAccelerated && Avx512F.IsSupported;

    /// <summary>The weight's rows: the activations' last dimension.</summary>
    public int K { get; }

    /// <summary>The weight's columns: the output's last dimension.</summary>
    public int N { get; }

    /// <summary>Packed panels of <see cref="Width"/> columns.</summary>
    public int Panels { get; }

    /// <summary>Panels of <see cref="Width"/> columns for <paramref name="n"/> columns.</summary>
    public static int PanelCount(int n) => (n + Width - 1) / Width;

    /// <summary>The operator, for <see cref="LlmAspireKernels"/>.</summary>
    public static CustomOperator Create() => new(Name, Slots, OutputSlots, CreateKernel);

    /// <summary>
    /// Packs <paramref name="weight"/> ([<paramref name="k"/>, <paramref name="n"/>], row-major) into
    /// <paramref name="packed"/> ([⌈n / 64⌉, k, 64]).
    /// </summary>
    public static void Pack(ReadOnlySpan<float> weight, int k, int n, Span<float> packed)
    {
        int panels = PanelCount(n);
        if (weight.Length != (long)k * n || packed.Length != (long)panels * k * Width)
        {
            throw new ArgumentException($"A [{k}, {n}] weight packs into {(long)panels * k * Width} floats; given {weight.Length} and {packed.Length}.");
        }

        for (int p = 0; p < panels; p++)
        {
            int columns = Math.Min(Width, n - (p * Width));
            for (int row = 0; row < k; row++)
            {
                Span<float> target = packed.Slice(checked((((p * k) + row) * Width)), Width);
                weight.Slice(checked((row * n) + (p * Width)), columns).CopyTo(target);
                target[columns..].Clear();
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
            throw new InvalidOperationException($"PackedMatMul expects activations [..., {K}]; it was given rank {rank} with last dimension {(rank > 0 ? shape[rank - 1] : 0)}.");
        }

        long rows = 1;
        for (int i = 0; i < rank - 1; i++)
        {
            rows *= shape[i];
        }

        shape[rank - 1] = N;
        float* output = (float*)OrtApiTable.Data(OrtApiTable.Output(context, 0, shape[..rank]));
        if (rows == 0)
        {
            return;
        }

        var job = new Job
        {
            A = (float*)OrtApiTable.Data(input),
            C = output,
            Packed = _packed,
            M = checked((int)rows),
            K = K,
            N = N,
            Panels = Panels,
            RowBlocks = checked((int)((rows + RowBlock - 1) / RowBlock)),
        };
        int items = checked(job.Panels * job.RowBlocks);
        if (rows * K * N < InlineWork || items == 1)
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
                throw new InvalidOperationException("A parallel PackedMatMul item failed.");
            }
        }
    }

    /// <summary>
    /// The product of <paramref name="a"/> [<paramref name="m"/>, K] and <paramref name="packed"/> (as <see cref="Pack"/>
    /// writes it) into <paramref name="c"/> [m, N] on the calling thread: what each parallel item runs a part of.
    /// </summary>
    internal static void Multiply(float* a, int m, float* packed, int k, int n, float* c)
    {
        var job = new Job { A = a, C = c, Packed = packed, M = m, K = k, N = n, Panels = PanelCount(n), RowBlocks = (m + RowBlock - 1) / RowBlock };
        for (int i = 0; i < job.Panels * job.RowBlocks; i++)
        {
            RunItem(ref job, i);
        }
    }

    private static PackedMatMulKernel CreateKernel(IntPtr info)
    {
        if (!IsSupported)
        {
            throw new NotSupportedException("PackedMatMul needs AVX-512 (Vector512 is not accelerated on this machine).");
        }

        IntPtr weight = OrtApiTable.ConstantInput(info, 1);
        if (weight == IntPtr.Zero)
        {
            throw new NotSupportedException("PackedMatMul takes its packed weight as a constant initializer; this node's is computed.");
        }

        long n = OrtApiTable.AttributeInt64(info, "N", 0);
        Span<long> shape = stackalloc long[8];
        (int type, int rank) = OrtApiTable.Shape(weight, shape);
        return type != OrtApiTable.ElementFloat || rank != 3 || shape[2] != Width || n <= 0 || n > int.MaxValue || shape[0] != PanelCount((int)n) || shape[1] <= 0 || shape[1] > int.MaxValue
            ? throw new NotSupportedException($"PackedMatMul takes a float32 weight packed as [ceil(N / {Width}), K, {Width}] and its N; this node's weight has rank {rank}, N {n}.")
            : new PackedMatMulKernel((float*)OrtApiTable.Data(weight), (int)shape[1], (int)n);
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
    /// One panel for one block of rows: K block after K block, four rows at a time (then one). The first four passes
    /// over a block fetch the next 64 KB of the packed weight — this panel's next block, or the next panel's first,
    /// which is where it lies in memory — one cache line per K step.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunItem(ref Job job, int item)
    {
        int panel = item % job.Panels;
        int rowBlock = item / job.Panels;
        int first = rowBlock * RowBlock, last = Math.Min(job.M, first + RowBlock);
        int columns = Math.Min(Width, job.N - (panel * Width));
        int k = job.K;
        float* panelData = job.Packed + ((long)panel * k * Width);
        float* end = job.Packed + ((long)job.Panels * k * Width);
        float* tile = stackalloc float[4 * Width];
        int fetchingPasses = Math.Min(4, (last - first) / 4);
        int linesPerStep = fetchingPasses == 0 ? 0 : (4 + fetchingPasses - 1) / fetchingPasses;
        for (int depth = 0; depth < k; depth += DepthBlock)
        {
            int depthCount = Math.Min(DepthBlock, k - depth);
            bool accumulate = depth > 0;
            float* b = panelData + ((long)depth * Width);
            float* next = b + ((long)depthCount * Width);
            int row = first;
            for (int pass = 0; row + 4 <= last; row += 4, pass++)
            {
                float* fetch = pass < fetchingPasses ? next + ((long)pass * depthCount * linesPerStep * 16) : null;
                if (fetch != null && fetch + ((long)depthCount * linesPerStep * 16) > end)
                {
                    fetch = null;
                }

                float* a = job.A + ((long)row * k) + depth;
                float* c = job.C + ((long)row * job.N) + (panel * Width);
                if (columns == Width)
                {
                    Four(a, k, b, depthCount, c, job.N, accumulate, fetch, linesPerStep);
                }
                else
                {
                    Four(a, k, b, depthCount, tile, Width, accumulate: false, fetch, linesPerStep);
                    Spill(tile, 4, columns, c, job.N, accumulate);
                }
            }

            for (; row < last; row++)
            {
                float* a = job.A + ((long)row * k) + depth;
                float* c = job.C + ((long)row * job.N) + (panel * Width);
                if (columns == Width)
                {
                    One(a, b, depthCount, c, accumulate);
                }
                else
                {
                    One(a, b, depthCount, tile, accumulate: false);
                    Spill(tile, 1, columns, c, job.N, accumulate);
                }
            }
        }
    }

    /// <summary>Writes (or adds) the first <paramref name="columns"/> of a tile's rows to the output.</summary>
    private static void Spill(float* tile, int rows, int columns, float* c, int ldc, bool accumulate)
    {
        for (int r = 0; r < rows; r++)
        {
            float* target = c + ((long)r * ldc);
            for (int j = 0; j < columns; j++)
            {
                target[j] = accumulate ? target[j] + tile[(r * Width) + j] : tile[(r * Width) + j];
            }
        }
    }

    /// <summary>
    /// Four rows of <paramref name="a"/> (stride <paramref name="lda"/>) by one panel block in 16 accumulators, fetching
    /// <paramref name="linesPerStep"/> cache lines from <paramref name="fetch"/> (when not null) per K step.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Four(float* a, int lda, float* b, int depth, float* c, int ldc, bool accumulate, float* fetch, int linesPerStep)
    {
        Vector512<float> c00 = default, c01 = default, c02 = default, c03 = default;
        Vector512<float> c10 = default, c11 = default, c12 = default, c13 = default;
        Vector512<float> c20 = default, c21 = default, c22 = default, c23 = default;
        Vector512<float> c30 = default, c31 = default, c32 = default, c33 = default;
        float* a0 = a, a1 = a + lda, a2 = a + (2L * lda), a3 = a + (3L * lda);
        for (int k = 0; k < depth; k++, b += Width)
        {
            if (fetch != null)
            {
                Sse.Prefetch1(fetch);
                if (linesPerStep > 1)
                {
                    Sse.Prefetch1(fetch + 16);
                    if (linesPerStep > 2)
                    {
                        Sse.Prefetch1(fetch + 32);
                        Sse.Prefetch1(fetch + 48);
                    }
                }

                fetch += linesPerStep * 16;
            }

            Vector512<float> b0 = Vector512.Load(b), b1 = Vector512.Load(b + 16), b2 = Vector512.Load(b + 32), b3 = Vector512.Load(b + 48);
            Vector512<float> x = Vector512.Create(a0[k]);
            c00 = Vector512.FusedMultiplyAdd(x, b0, c00);
            c01 = Vector512.FusedMultiplyAdd(x, b1, c01);
            c02 = Vector512.FusedMultiplyAdd(x, b2, c02);
            c03 = Vector512.FusedMultiplyAdd(x, b3, c03);
            x = Vector512.Create(a1[k]);
            c10 = Vector512.FusedMultiplyAdd(x, b0, c10);
            c11 = Vector512.FusedMultiplyAdd(x, b1, c11);
            c12 = Vector512.FusedMultiplyAdd(x, b2, c12);
            c13 = Vector512.FusedMultiplyAdd(x, b3, c13);
            x = Vector512.Create(a2[k]);
            c20 = Vector512.FusedMultiplyAdd(x, b0, c20);
            c21 = Vector512.FusedMultiplyAdd(x, b1, c21);
            c22 = Vector512.FusedMultiplyAdd(x, b2, c22);
            c23 = Vector512.FusedMultiplyAdd(x, b3, c23);
            x = Vector512.Create(a3[k]);
            c30 = Vector512.FusedMultiplyAdd(x, b0, c30);
            c31 = Vector512.FusedMultiplyAdd(x, b1, c31);
            c32 = Vector512.FusedMultiplyAdd(x, b2, c32);
            c33 = Vector512.FusedMultiplyAdd(x, b3, c33);
        }

        Store(c, accumulate, c00, c01, c02, c03);
        Store(c + ldc, accumulate, c10, c11, c12, c13);
        Store(c + (2L * ldc), accumulate, c20, c21, c22, c23);
        Store(c + (3L * ldc), accumulate, c30, c31, c32, c33);
    }

    /// <summary>One row by one panel block: one chain of sums per column, as MLAS's.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void One(float* a, float* b, int depth, float* c, bool accumulate)
    {
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default;
        for (int k = 0; k < depth; k++, b += Width)
        {
            Vector512<float> x = Vector512.Create(a[k]);
            c0 = Vector512.FusedMultiplyAdd(x, Vector512.Load(b), c0);
            c1 = Vector512.FusedMultiplyAdd(x, Vector512.Load(b + 16), c1);
            c2 = Vector512.FusedMultiplyAdd(x, Vector512.Load(b + 32), c2);
            c3 = Vector512.FusedMultiplyAdd(x, Vector512.Load(b + 48), c3);
        }

        Store(c, accumulate, c0, c1, c2, c3);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* c, bool accumulate, Vector512<float> v0, Vector512<float> v1, Vector512<float> v2, Vector512<float> v3)
    {
        if (accumulate)
        {
            v0 += Vector512.Load(c);
            v1 += Vector512.Load(c + 16);
            v2 += Vector512.Load(c + 32);
            v3 += Vector512.Load(c + 48);
        }

        v0.Store(c);
        v1.Store(c + 16);
        v2.Store(c + 32);
        v3.Store(c + 48);
    }

    private struct Job
    {
        public float* A;
        public float* C;
        public float* Packed;
        public int M;
        public int K;
        public int N;
        public int Panels;
        public int RowBlocks;
        public int Failed;
    }
}
