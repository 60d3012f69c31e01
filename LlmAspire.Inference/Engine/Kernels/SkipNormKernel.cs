using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace LlmAspire.Inference.Engine.Kernels;

/// <summary>
/// RMSNorm fused with the residual add, <c>com.microsoft.SkipSimplifiedLayerNormalization</c> in float32, with ONNX
/// Runtime's semantics: sum = input + skip (+ bias), output = sum / √(mean(sum²) + ε) · γ, and output 3, when the node
/// names it, the sum itself (the residual stream's next value). Outputs equal ONNX Runtime's bit for bit: the squares are
/// added up one element after another in float as its loop does, and every element is divided by the root and then
/// multiplied by γ. (Adding them up in sixteen running sums instead moved the last bit, and through an int8 graph's
/// rounded activations that changed a greedy token after some fifty.)
/// <para>
/// Why our own: ONNX Runtime's kernel hands every call with more than one row to its thread pool, one task per row, so a
/// decode step of 16 streams — 16 rows of 768, a few microseconds of work — wakes a sleeping worker for each of the 24
/// norms of a 12-layer model, at tens of microseconds a wake-up with spinning off. This one runs on the calling thread
/// below <see cref="InlineElements"/> (a prefill of many rows still uses the pool), adds and scales in vectors, and adds
/// up the squares of eight rows at once, one row per lane.
/// </para>
/// </summary>
internal sealed unsafe class SkipNormKernel(float epsilon) : ICustomKernel
{
    /// <summary>Elements below which a call runs on the calling thread.</summary>
    private const long InlineElements = 1L << 16;

    /// <summary>Rows per work item of a parallel call, and at most on the stack at once: two blocks of eight lanes.</summary>
    private const int RowsPerBlock = 16;

    private readonly float _epsilon = epsilon;

    /// <summary>input, skip, gamma, bias (the simplified form has no beta).</summary>
    private static readonly CustomOperatorSlot[] Inputs =
    [
        new(OrtApiTable.ElementFloat),
        new(OrtApiTable.ElementFloat),
        new(OrtApiTable.ElementFloat),
        new(OrtApiTable.ElementFloat, Optional: true),
    ];

    /// <summary>output, mean, inv_std_var (neither written, as by ONNX Runtime's CPU kernel), input_skip_bias_sum.</summary>
    private static readonly CustomOperatorSlot[] Outputs =
    [
        new(OrtApiTable.ElementFloat),
        new(OrtApiTable.ElementFloat, Optional: true),
        new(OrtApiTable.ElementFloat, Optional: true),
        new(OrtApiTable.ElementFloat, Optional: true),
    ];

    /// <summary>The operator, for <see cref="LlmAspireKernels"/>.</summary>
    public static CustomOperator Create() => new("SkipSimplifiedLayerNormalization", Inputs, Outputs, info =>
    {
        float epsilon = OrtApiTable.AttributeFloat(info, "epsilon", float.NaN);
        return float.IsNaN(epsilon) || epsilon < 0
            ? throw new InvalidOperationException("SkipSimplifiedLayerNormalization needs a non-negative epsilon.")
            : new SkipNormKernel(epsilon);
    });

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Compute(IntPtr context)
    {
        Span<long> shape = stackalloc long[8];
        Span<long> other = stackalloc long[8];
        IntPtr input = OrtApiTable.Input(context, 0);
        int rank = OrtApiTable.Shape(input, shape).Rank;
        if (rank < 1 || shape[rank - 1] <= 0)
        {
            throw new InvalidOperationException("input needs a last dimension, the hidden size.");
        }

        int hidden = (int)shape[rank - 1];
        long elements = Elements(shape[..rank]);
        IntPtr skip = OrtApiTable.Input(context, 1);
        long skipElements = Elements(other[..OrtApiTable.Shape(skip, other).Rank]);
        if (skipElements == 0 || skipElements % hidden != 0 || elements % skipElements != 0)
        {
            throw new InvalidOperationException($"skip has {skipElements} elements, which do not tile input's {elements} by rows of {hidden}.");
        }

        IntPtr gamma = OrtApiTable.Input(context, 2);
        Expect(gamma, other, hidden, "gamma");
        IntPtr bias = OrtApiTable.InputCount(context) > 3 ? OrtApiTable.Input(context, 3) : IntPtr.Zero;
        if (bias != IntPtr.Zero)
        {
            Expect(bias, other, hidden, "bias");
        }

        IntPtr sum = OrtApiTable.OutputCount(context) > 3 ? OrtApiTable.Output(context, 3, shape[..rank]) : IntPtr.Zero;
        var job = new Job
        {
            Input = (float*)OrtApiTable.Data(input),
            Skip = (float*)OrtApiTable.Data(skip),
            SkipElements = skipElements,
            Gamma = (float*)OrtApiTable.Data(gamma),
            Bias = bias == IntPtr.Zero ? null : (float*)OrtApiTable.Data(bias),
            Output = (float*)OrtApiTable.Data(OrtApiTable.Output(context, 0, shape[..rank])),
            Sum = sum == IntPtr.Zero ? null : (float*)OrtApiTable.Data(sum),
            Hidden = hidden,
            Epsilon = _epsilon,
        };

        job.Rows = elements / hidden;
        if (elements < InlineElements || job.Rows <= RowsPerBlock)
        {
            for (long first = 0; first < job.Rows; first += RowsPerBlock)
            {
                Rows(ref job, first, Math.Min(RowsPerBlock, job.Rows - first));
            }
        }
        else
        {
            OrtApiTable.ParallelFor(context, &Work, (int)((job.Rows + RowsPerBlock - 1) / RowsPerBlock), &job);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static long Elements(ReadOnlySpan<long> shape)
    {
        long elements = 1;
        foreach (long dim in shape)
        {
            elements *= dim;
        }

        return elements;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Expect(IntPtr value, Span<long> shape, int hidden, string name)
    {
        long elements = Elements(shape[..OrtApiTable.Shape(value, shape).Rank]);
        if (elements != hidden)
        {
            throw new InvalidOperationException($"{name} has {elements} elements, expected the hidden size {hidden}.");
        }
    }

    [UnmanagedCallersOnly]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Work(void* state, nuint index)
    {
        ref Job job = ref Unsafe.AsRef<Job>(state);
        long first = (long)index * RowsPerBlock;
        Rows(ref job, first, Math.Min(RowsPerBlock, job.Rows - first));
    }

    /// <summary>
    /// Rows <paramref name="first"/> to <paramref name="first"/> + <paramref name="count"/>: each row's sum written out
    /// (and to the residual output) in vectors; the squares added up one element after another, as ONNX Runtime's loop
    /// does — eight rows at a time, one per lane, so the chain of dependent adds is paid once for eight; then each row
    /// divided by its root and multiplied by γ.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Rows(ref Job job, long first, long count)
    {
        int n = job.Hidden;
        Span<float> squares = stackalloc float[RowsPerBlock];
        for (long r = 0; r < count; r++)
        {
            Add(ref job, first + r);
        }

        long row = 0;
        if (Avx.IsSupported)
        {
            for (; row + 8 <= count; row += 8)
            {
                Squares8(job.Output + ((first + row) * n), n, squares.Slice((int)row, 8));
            }
        }

        for (; row < count; row++)
        {
            float* sum = job.Output + ((first + row) * n);
            float total = 0f;
            for (int i = 0; i < n; i++)
            {
                total += sum[i] * sum[i];
            }

            squares[(int)row] = total;
        }

        for (long r = 0; r < count; r++)
        {
            Scale(ref job, first + r, MathF.Sqrt((squares[(int)r] / n) + job.Epsilon));
        }
    }

    /// <summary>
    /// The sums of squares of eight rows of <paramref name="n"/> at <paramref name="rows"/>, each added up in column
    /// order: eight columns of the eight rows are loaded and transposed in registers, so lane j holds row j, and one vector
    /// add per column extends all eight chains.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Squares8(float* rows, int n, Span<float> sums)
    {
        var acc = Vector256<float>.Zero;
        int i = 0;
        for (; i + 8 <= n; i += 8)
        {
            float* p = rows + i;
            Vector256<float> r0 = Avx.LoadVector256(p), r1 = Avx.LoadVector256(p + n);
            Vector256<float> r2 = Avx.LoadVector256(p + (2 * n)), r3 = Avx.LoadVector256(p + (3 * n));
            Vector256<float> r4 = Avx.LoadVector256(p + (4 * n)), r5 = Avx.LoadVector256(p + (5 * n));
            Vector256<float> r6 = Avx.LoadVector256(p + (6 * n)), r7 = Avx.LoadVector256(p + (7 * n));

            // Pairs of rows interleaved, then quads: u0 holds columns 0 | 4 of rows 0-3, u4 the same of rows 4-7, and so on.
            Vector256<float> t0 = Avx.UnpackLow(r0, r1), t1 = Avx.UnpackHigh(r0, r1);
            Vector256<float> t2 = Avx.UnpackLow(r2, r3), t3 = Avx.UnpackHigh(r2, r3);
            Vector256<float> t4 = Avx.UnpackLow(r4, r5), t5 = Avx.UnpackHigh(r4, r5);
            Vector256<float> t6 = Avx.UnpackLow(r6, r7), t7 = Avx.UnpackHigh(r6, r7);
            Vector256<float> u0 = Avx.Shuffle(t0, t2, 0x44), u1 = Avx.Shuffle(t0, t2, 0xEE);
            Vector256<float> u2 = Avx.Shuffle(t1, t3, 0x44), u3 = Avx.Shuffle(t1, t3, 0xEE);
            Vector256<float> u4 = Avx.Shuffle(t4, t6, 0x44), u5 = Avx.Shuffle(t4, t6, 0xEE);
            Vector256<float> u6 = Avx.Shuffle(t5, t7, 0x44), u7 = Avx.Shuffle(t5, t7, 0xEE);

            // Column k of the eight rows: low halves make columns 0-3, high halves 4-7.
            Vector256<float> c0 = Avx.Permute2x128(u0, u4, 0x20), c1 = Avx.Permute2x128(u1, u5, 0x20);
            Vector256<float> c2 = Avx.Permute2x128(u2, u6, 0x20), c3 = Avx.Permute2x128(u3, u7, 0x20);
            Vector256<float> c4 = Avx.Permute2x128(u0, u4, 0x31), c5 = Avx.Permute2x128(u1, u5, 0x31);
            Vector256<float> c6 = Avx.Permute2x128(u2, u6, 0x31), c7 = Avx.Permute2x128(u3, u7, 0x31);
            acc += c0 * c0;
            acc += c1 * c1;
            acc += c2 * c2;
            acc += c3 * c3;
            acc += c4 * c4;
            acc += c5 * c5;
            acc += c6 * c6;
            acc += c7 * c7;
        }

        acc.CopyTo(sums);
        for (int r = 0; r < 8; r++)
        {
            float* row = rows + ((long)r * n);
            float total = sums[r];
            for (int j = i; j < n; j++)
            {
                total += row[j] * row[j];
            }

            sums[r] = total;
        }
    }

    /// <summary>A row's input + skip (+ bias), to the output and the residual output.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Add(ref Job job, long row)
    {
        int n = job.Hidden;
        long offset = row * n;
        float* x = job.Input + offset;
        float* skip = job.Skip + (offset % job.SkipElements);
        float* output = job.Output + offset;
        float* residual = job.Sum is null ? null : job.Sum + offset;
        float* bias = job.Bias;
        int i = 0;
        for (; i + 8 <= n; i += 8)
        {
            Vector256<float> v = Vector256.Load(x + i) + Vector256.Load(skip + i);
            if (bias is not null)
            {
                v += Vector256.Load(bias + i);
            }

            v.Store(output + i);
            if (residual is not null)
            {
                v.Store(residual + i);
            }
        }

        for (; i < n; i++)
        {
            float v = x[i] + skip[i];
            if (bias is not null)
            {
                v += bias[i];
            }

            output[i] = v;
            if (residual is not null)
            {
                residual[i] = v;
            }
        }
    }

    /// <summary>A row divided by <paramref name="root"/>, then multiplied by γ, element by element.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Scale(ref Job job, long row, float root)
    {
        int n = job.Hidden;
        float* output = job.Output + (row * n);
        float* gamma = job.Gamma;
        var roots = Vector256.Create(root);
        int i = 0;
        for (; i + 8 <= n; i += 8)
        {
            (Vector256.Load(output + i) / roots * Vector256.Load(gamma + i)).Store(output + i);
        }

        for (; i < n; i++)
        {
            output[i] = output[i] / root * gamma[i];
        }
    }

    private struct Job
    {
        public float* Input;
        public float* Skip;
        public long SkipElements;
        public float* Gamma;
        public float* Bias;
        public float* Output;
        public float* Sum;
        public int Hidden;
        public long Rows;
        public float Epsilon;
    }
}
