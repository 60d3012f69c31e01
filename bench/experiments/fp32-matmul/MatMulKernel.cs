using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

using LlmAspire.Inference.Engine.Kernels;

namespace LlmAspire.Bench.Fp32MatMul;

/// <summary>
/// A float32 <c>MatMul</c> of activations [..., K] by a constant weight [K, N], for ONNX Runtime's CPU provider
/// (<see cref="MatMulOperator"/>): an experiment, not part of the engine (docs/BENCHMARKS.md, "A float32 MatMul of our own"). The weight is packed once, when the session creates the kernel, into panels of
/// <see cref="Width"/> columns stored K-major ([N / 64][K][64], the last panel padded with zeros), so that computing a
/// panel reads one contiguous stream. Each panel is computed over blocks of <see cref="DepthBlock"/> of K, four rows at a
/// time in 16 AVX-512 accumulators (4 rows × 64 columns), or one row in eight (two K steps at once): a decode step's
/// one or few rows stream every weight once at close to the memory's read bandwidth, where ONNX Runtime's MLAS read
/// about half of it (bench engine, 100M float32, one stream); many rows reuse each panel block from cache.
/// Panels, and blocks of 64 rows, are split across the session's intra-op threads.
/// </summary>
internal sealed unsafe class MatMulKernel : ICustomKernel, IDisposable
{
    /// <summary>Columns per packed panel: four 16-float vectors.</summary>
    public const int Width = 64;

    /// <summary>Rows of K computed per pass over a panel (64 KB of a panel: it stays in L2 while row blocks reuse it).</summary>
    public const int DepthBlock = 256;

    /// <summary>Rows of the activations per parallel item.</summary>
    private const int RowBlock = 64;

    /// <summary>Below this many multiply-adds a call runs on the calling thread (dispatch costs more than it saves).</summary>
    private const long InlineWork = 1 << 16;

    private float* _packed;

    /// <summary>Packs the weight <paramref name="weight"/>, [<paramref name="k"/>, <paramref name="n"/>] row-major.</summary>
    public MatMulKernel(float* weight, int k, int n)
    {
        if (k <= 0 || n <= 0)
        {
            throw new ArgumentException($"A weight of [{k}, {n}] cannot be packed.");
        }

        K = k;
        N = n;
        Panels = (n + Width - 1) / Width;
        _packed = (float*)NativeMemory.AlignedAlloc((nuint)Panels * (nuint)k * Width * sizeof(float), 64);
        for (int p = 0; p < Panels; p++)
        {
            int columns = Math.Min(Width, n - (p * Width));
            float* panel = _packed + ((long)p * k * Width);
            for (int row = 0; row < k; row++)
            {
                var source = new ReadOnlySpan<float>(weight + ((long)row * n) + (p * Width), columns);
                var target = new Span<float>(panel + ((long)row * Width), Width);
                source.CopyTo(target);
                target[columns..].Clear();
            }
        }
    }

    /// <summary>The weight's rows: the activations' last dimension.</summary>
    public int K { get; }

    /// <summary>The weight's columns: the output's last dimension.</summary>
    public int N { get; }

    /// <summary>Packed panels of <see cref="Width"/> columns.</summary>
    public int Panels { get; }

    /// <summary>Whether this machine runs the kernel: it is written for AVX-512 (16-float vectors).</summary>
    public static bool IsSupported => Vector512.IsHardwareAccelerated;

    /// <summary>The ONNX Runtime kernel call: input 0 is the activations, [..., K]; output 0 is [..., N].</summary>
    public void Compute(IntPtr context)
    {
        IntPtr input = OrtApiTable.Input(context, 0);
        Span<long> shape = stackalloc long[8];
        (int type, int rank) = OrtApiTable.Shape(input, shape);
        if (type != OrtApiTable.ElementFloat || rank < 1 || shape[rank - 1] != K)
        {
            throw new InvalidOperationException($"MatMul expects float32 activations [..., {K}]; it was given rank {rank} with last dimension {(rank > 0 ? shape[rank - 1] : 0)}.");
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
            RowBlocks = (int)((rows + RowBlock - 1) / RowBlock),
        };
        int items = job.Panels * job.RowBlocks;
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
                throw new InvalidOperationException("A parallel MatMul item failed.");
            }
        }
    }

    /// <summary>
    /// The product of <paramref name="a"/> [<paramref name="m"/>, K] and the packed weight into <paramref name="c"/>
    /// [m, N], on the calling thread (tests, and what each parallel item runs a part of).
    /// </summary>
    public void Multiply(float* a, int m, float* c)
    {
        var job = new Job { A = a, C = c, Packed = _packed, M = m, K = K, N = N, Panels = Panels, RowBlocks = (m + RowBlock - 1) / RowBlock };
        for (int i = 0; i < job.Panels * job.RowBlocks; i++)
        {
            RunItem(ref job, i);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_packed != null)
        {
            NativeMemory.AlignedFree(_packed);
            _packed = null;
        }
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

    /// <summary>One panel for one block of rows: every K block, four rows at a time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunItem(ref Job job, int item)
    {
        int panel = item % job.Panels;
        int rowBlock = item / job.Panels;
        int first = rowBlock * RowBlock, last = Math.Min(job.M, first + RowBlock);
        int columns = Math.Min(Width, job.N - (panel * Width));
        int k = job.K;
        float* panelData = job.Packed + ((long)panel * k * Width);
        float* tile = stackalloc float[4 * Width];
        for (int depth = 0; depth < k; depth += DepthBlock)
        {
            int depthCount = Math.Min(DepthBlock, k - depth);
            bool accumulate = depth > 0;
            float* b = panelData + ((long)depth * Width);
            int row = first;
            for (; row + 4 <= last; row += 4)
            {
                float* a = job.A + ((long)row * k) + depth;
                float* c = job.C + ((long)row * job.N) + (panel * Width);
                if (columns == Width)
                {
                    Four(a, k, b, depthCount, c, job.N, accumulate);
                }
                else
                {
                    Four(a, k, b, depthCount, tile, Width, accumulate: false);
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
            for (int j = 0; j < columns; j++)
            {
                c[((long)r * ldc) + j] = accumulate ? c[((long)r * ldc) + j] + tile[(r * Width) + j] : tile[(r * Width) + j];
            }
        }
    }

    /// <summary>Four rows of <paramref name="a"/> (stride <paramref name="lda"/>) by one panel block: 16 accumulators.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Four(float* a, int lda, float* b, int depth, float* c, int ldc, bool accumulate)
    {
        Vector512<float> c00 = default, c01 = default, c02 = default, c03 = default;
        Vector512<float> c10 = default, c11 = default, c12 = default, c13 = default;
        Vector512<float> c20 = default, c21 = default, c22 = default, c23 = default;
        Vector512<float> c30 = default, c31 = default, c32 = default, c33 = default;
        float* a0 = a, a1 = a + lda, a2 = a + (2L * lda), a3 = a + (3L * lda);
        for (int k = 0; k < depth; k++, b += Width)
        {
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

    /// <summary>One row by one panel block: two K steps at a time in eight accumulators.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void One(float* a, float* b, int depth, float* c, bool accumulate)
    {
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default;
        Vector512<float> d0 = default, d1 = default, d2 = default, d3 = default;
        int k = 0;
        for (; k + 2 <= depth; k += 2, b += 2 * Width)
        {
            Vector512<float> x = Vector512.Create(a[k]);
            c0 = Vector512.FusedMultiplyAdd(x, Vector512.Load(b), c0);
            c1 = Vector512.FusedMultiplyAdd(x, Vector512.Load(b + 16), c1);
            c2 = Vector512.FusedMultiplyAdd(x, Vector512.Load(b + 32), c2);
            c3 = Vector512.FusedMultiplyAdd(x, Vector512.Load(b + 48), c3);
            Vector512<float> y = Vector512.Create(a[k + 1]);
            d0 = Vector512.FusedMultiplyAdd(y, Vector512.Load(b + 64), d0);
            d1 = Vector512.FusedMultiplyAdd(y, Vector512.Load(b + 80), d1);
            d2 = Vector512.FusedMultiplyAdd(y, Vector512.Load(b + 96), d2);
            d3 = Vector512.FusedMultiplyAdd(y, Vector512.Load(b + 112), d3);
        }

        if (k < depth)
        {
            Vector512<float> x = Vector512.Create(a[k]);
            c0 = Vector512.FusedMultiplyAdd(x, Vector512.Load(b), c0);
            c1 = Vector512.FusedMultiplyAdd(x, Vector512.Load(b + 16), c1);
            c2 = Vector512.FusedMultiplyAdd(x, Vector512.Load(b + 32), c2);
            c3 = Vector512.FusedMultiplyAdd(x, Vector512.Load(b + 48), c3);
        }

        Store(c, accumulate, c0 + d0, c1 + d1, c2 + d2, c3 + d3);
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
