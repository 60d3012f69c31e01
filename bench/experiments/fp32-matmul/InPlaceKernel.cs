using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

using LlmAspire.Inference.Engine.Kernels;

namespace LlmAspire.Bench.Fp32MatMul;

/// <summary>
/// Experiment (docs/BENCHMARKS.md, "Seventh pass"): the weight read where ONNX Runtime keeps it ([K, N] row-major,
/// so no second copy), 4 rows × 64 columns per tile as <see cref="MatMulKernel"/>, the next block prefetched. Slower than
/// the packed layout: each K step of a panel is a different row of the weight, 256 bytes of a 3–24 KB stride.
/// </summary>
internal sealed unsafe class InPlaceKernel : ICustomKernel, IDisposable
{
    public const int Width = 64;
    public const int DepthBlock = 256;
    private const int RowBlock = 64;
    private const long InlineWork = 1 << 16;

    private readonly float* _weight;
    private float* _tail; // the last partial panel, packed [K][64] with zeros

    public InPlaceKernel(float* weight, int k, int n)
    {
        _weight = weight;
        K = k; N = n;
        Panels = (n + Width - 1) / Width;
        int tailColumns = n % Width;
        if (tailColumns != 0)
        {
            _tail = (float*)NativeMemory.AlignedAlloc((nuint)k * Width * sizeof(float), 64);
            for (int row = 0; row < k; row++)
            {
                var target = new Span<float>(_tail + ((long)row * Width), Width);
                new ReadOnlySpan<float>(weight + ((long)row * n) + (n - tailColumns), tailColumns).CopyTo(target);
                target[tailColumns..].Clear();
            }
        }
    }

    public int K { get; }
    public int N { get; }
    public int Panels { get; }

    public void Compute(IntPtr context)
    {
        IntPtr input = OrtApiTable.Input(context, 0);
        Span<long> shape = stackalloc long[8];
        (int type, int rank) = OrtApiTable.Shape(input, shape);
        long rows = 1;
        for (int i = 0; i < rank - 1; i++) rows *= shape[i];
        shape[rank - 1] = N;
        float* output = (float*)OrtApiTable.Data(OrtApiTable.Output(context, 0, shape[..rank]));
        if (rows == 0) return;
        var job = new Job
        {
            A = (float*)OrtApiTable.Data(input), C = output, W = _weight, Tail = _tail,
            M = checked((int)rows), K = K, N = N, Panels = Panels,
            RowBlocks = (int)((rows + RowBlock - 1) / RowBlock),
        };
        int items = job.Panels * job.RowBlocks;
        if (rows * K * N < InlineWork || items == 1)
        {
            for (int i = 0; i < items; i++) RunItem(ref job, i);
        }
        else
        {
            OrtApiTable.ParallelFor(context, &Work, items, &job);
        }
    }

    public void Dispose()
    {
        if (_tail != null) { NativeMemory.AlignedFree(_tail); _tail = null; }
    }

    [UnmanagedCallersOnly]
    private static void Work(void* state, nuint index) => RunItem(ref Unsafe.AsRef<Job>(state), (int)index);

    /// <summary>Where panel <paramref name="panel"/>'s row <paramref name="row"/> starts, and the stride between rows.</summary>
    private static float* PanelRow(ref Job job, int panel, int row, out int ldb)
    {
        if (panel == job.Panels - 1 && job.Tail != null)
        {
            ldb = Width;
            return job.Tail + ((long)row * Width);
        }

        ldb = job.N;
        return job.W + ((long)row * job.N) + (panel * Width);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunItem(ref Job job, int item)
    {
        int panel = item % job.Panels;
        int rowBlock = item / job.Panels;
        int first = rowBlock * RowBlock, last = Math.Min(job.M, first + RowBlock);
        int columns = Math.Min(Width, job.N - (panel * Width));
        int k = job.K;
        float* tile = stackalloc float[4 * Width];
        int calls = ((last - first) / 4) + ((last - first) % 4);
        int slots = Math.Min(4, calls);
        int linesPerK = (4 + slots - 1) / slots;
        for (int depth = 0; depth < k; depth += DepthBlock)
        {
            int depthCount = Math.Min(DepthBlock, k - depth);
            bool accumulate = depth > 0;
            float* b = PanelRow(ref job, panel, depth, out int ldb);
            // The next block: this panel's next K block, or the next panel's first.
            float* nb = null;
            int nldb = 0, nextLines = 0;
            if (depth + DepthBlock < k)
            {
                nb = PanelRow(ref job, panel, depth + DepthBlock, out nldb);
                nextLines = Math.Min(DepthBlock, k - depth - DepthBlock) * 4;
            }
            else if (panel + 1 < job.Panels)
            {
                nb = PanelRow(ref job, panel + 1, 0, out nldb);
                nextLines = Math.Min(DepthBlock, k) * 4;
            }

            int row = first, call = 0;
            for (; row + 4 <= last; row += 4, call++)
            {
                float* a = job.A + ((long)row * k) + depth;
                float* c = job.C + ((long)row * job.N) + (panel * Width);
                int firstLine = call < slots ? call * depthCount * linesPerK : nextLines;
                if (columns == Width)
                {
                    Four(a, k, b, ldb, depthCount, c, job.N, accumulate, nb, nldb, firstLine, linesPerK, nextLines);
                }
                else
                {
                    Four(a, k, b, ldb, depthCount, tile, Width, false, nb, nldb, firstLine, linesPerK, nextLines);
                    Spill(tile, 4, columns, c, job.N, accumulate);
                }
            }

            for (; row < last; row++, call++)
            {
                float* a = job.A + ((long)row * k) + depth;
                float* c = job.C + ((long)row * job.N) + (panel * Width);
                int firstLine = call < slots ? call * depthCount * linesPerK : nextLines;
                if (columns == Width)
                {
                    One(a, b, ldb, depthCount, c, accumulate, nb, nldb, firstLine, linesPerK, nextLines);
                }
                else
                {
                    One(a, b, ldb, depthCount, tile, false, nb, nldb, firstLine, linesPerK, nextLines);
                    Spill(tile, 1, columns, c, job.N, accumulate);
                }
            }
        }
    }

    private static void Spill(float* tile, int rows, int columns, float* c, int ldc, bool accumulate)
    {
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < columns; j++)
                c[((long)r * ldc) + j] = accumulate ? c[((long)r * ldc) + j] + tile[(r * Width) + j] : tile[(r * Width) + j];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Fetch(float* nb, int nldb, int line, int lines)
    {
        if (line < lines)
        {
            Sse.Prefetch1(nb + ((long)(line >> 2) * nldb) + ((line & 3) * 16));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Four(float* a, int lda, float* b, int ldb, int depth, float* c, int ldc, bool accumulate, float* nb, int nldb, int line, int linesPerK, int lines)
    {
        Vector512<float> c00 = default, c01 = default, c02 = default, c03 = default;
        Vector512<float> c10 = default, c11 = default, c12 = default, c13 = default;
        Vector512<float> c20 = default, c21 = default, c22 = default, c23 = default;
        Vector512<float> c30 = default, c31 = default, c32 = default, c33 = default;
        float* a0 = a, a1 = a + lda, a2 = a + (2L * lda), a3 = a + (3L * lda);
        if (nb == null) lines = 0;
        for (int k = 0; k < depth; k++, b += ldb)
        {
            for (int i = 0; i < linesPerK; i++, line++) Fetch(nb, nldb, line, lines);
            Vector512<float> b0 = Vector512.Load(b), b1 = Vector512.Load(b + 16), b2 = Vector512.Load(b + 32), b3 = Vector512.Load(b + 48);
            Vector512<float> x = Vector512.Create(a0[k]);
            c00 = Vector512.FusedMultiplyAdd(x, b0, c00); c01 = Vector512.FusedMultiplyAdd(x, b1, c01);
            c02 = Vector512.FusedMultiplyAdd(x, b2, c02); c03 = Vector512.FusedMultiplyAdd(x, b3, c03);
            x = Vector512.Create(a1[k]);
            c10 = Vector512.FusedMultiplyAdd(x, b0, c10); c11 = Vector512.FusedMultiplyAdd(x, b1, c11);
            c12 = Vector512.FusedMultiplyAdd(x, b2, c12); c13 = Vector512.FusedMultiplyAdd(x, b3, c13);
            x = Vector512.Create(a2[k]);
            c20 = Vector512.FusedMultiplyAdd(x, b0, c20); c21 = Vector512.FusedMultiplyAdd(x, b1, c21);
            c22 = Vector512.FusedMultiplyAdd(x, b2, c22); c23 = Vector512.FusedMultiplyAdd(x, b3, c23);
            x = Vector512.Create(a3[k]);
            c30 = Vector512.FusedMultiplyAdd(x, b0, c30); c31 = Vector512.FusedMultiplyAdd(x, b1, c31);
            c32 = Vector512.FusedMultiplyAdd(x, b2, c32); c33 = Vector512.FusedMultiplyAdd(x, b3, c33);
        }

        Store(c, accumulate, c00, c01, c02, c03);
        Store(c + ldc, accumulate, c10, c11, c12, c13);
        Store(c + (2L * ldc), accumulate, c20, c21, c22, c23);
        Store(c + (3L * ldc), accumulate, c30, c31, c32, c33);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void One(float* a, float* b, int ldb, int depth, float* c, bool accumulate, float* nb, int nldb, int line, int linesPerK, int lines)
    {
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default;
        if (nb == null) lines = 0;
        int k = 0;
        for (; k < depth; k++, b += ldb)
        {
            for (int i = 0; i < linesPerK; i++, line++) Fetch(nb, nldb, line, lines);
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
        if (accumulate) { v0 += Vector512.Load(c); v1 += Vector512.Load(c + 16); v2 += Vector512.Load(c + 32); v3 += Vector512.Load(c + 48); }
        v0.Store(c); v1.Store(c + 16); v2.Store(c + 32); v3.Store(c + 48);
    }

    private struct Job
    {
        public float* A, C, W, Tail;
        public int M, K, N, Panels, RowBlocks;
    }
}
