using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace LlmAspire.Inference.Engine.Kernels;

/// <summary>
/// <c>com.microsoft.QuickGelu</c> in float32 — y = x · σ(α·x), which ONNX Runtime fuses from a graph's Sigmoid and Mul
/// (SiLU, α = 1) — with outputs equal to ONNX Runtime's bit for bit on x64: σ is computed with the same operations as
/// MLAS's FMA3 logistic kernel, which ONNX Runtime's CPU kernel reaches there (the input clamped to [−18, 18], a rational
/// polynomial in x² evaluated by fused multiply-adds, one division, + ½, clamped at 0 — and at 1 on the SiLU path), α·x
/// and x·σ are single float products as in its loops. So it is registered only where MLAS runs that kernel (AVX2 with
/// FMA); checked against ONNX Runtime 1.31 on an AVX-512 CPU (`QuickGeluKernelTests`, every 2⁻¹⁶th value of [−20, 20]).
/// <para>
/// Why our own: ONNX Runtime's kernel splits a call into tasks of 4,096 elements on its thread pool, so at 16 streams
/// (16 rows of a 3,072-wide MLP) each layer's activation wakes a sleeping worker for a few microseconds of arithmetic.
/// This one runs on the calling thread below <see cref="InlineElements"/> and 16 lanes at a time where AVX-512 is there.
/// </para>
/// </summary>
internal sealed unsafe class QuickGeluKernel(float alpha) : ICustomKernel
{
    /// <summary>Elements below which a call runs on the calling thread.</summary>
    private const long InlineElements = 1L << 17;

    /// <summary>Elements per work item of a parallel call.</summary>
    private const int ElementsPerItem = 1 << 14;

    // MLAS's logistic constants (the polynomial Eigen uses).
    private const float LowerRange = -18.0f;
    private const float UpperRange = 18.0f;
    private const float Alpha9 = 4.37031012579801e-11f;
    private const float Alpha7 = 1.15627324459942e-07f;
    private const float Alpha5 = 6.08574864600143e-05f;
    private const float Alpha3 = 8.51377133304701e-03f;
    private const float Alpha1 = 2.48287947061529e-01f;
    private const float Beta10 = 6.10247389755681e-13f;
    private const float Beta8 = 5.76102136993427e-09f;
    private const float Beta6 = 6.29106785017040e-06f;
    private const float Beta4 = 1.70198817374094e-03f;
    private const float Beta2 = 1.16817656904453e-01f;
    private const float Beta0 = 9.93151921023180e-01f;

    private static readonly CustomOperatorSlot[] Inputs = [new(OrtApiTable.ElementFloat)];

    private static readonly CustomOperatorSlot[] Outputs = [new(OrtApiTable.ElementFloat)];

    private readonly float _alpha = alpha;

    /// <summary>Whether this CPU runs MLAS's FMA3 logistic kernel, whose results this one reproduces.</summary>
    public static bool IsSupported => Avx2.IsSupported && Fma.IsSupported;

    /// <summary>The operator, for <see cref="LlmAspireKernels"/>; <c>alpha</c> defaults to 1.702 as in ONNX Runtime.</summary>
    public static CustomOperator Create() => new("QuickGelu", Inputs, Outputs, info =>
    {
        float alpha = OrtApiTable.AttributeFloat(info, "alpha", 1.702f);
        return float.IsFinite(alpha) ? new QuickGeluKernel(alpha) : throw new InvalidOperationException($"QuickGelu needs a finite alpha, not {alpha}.");
    });

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Compute(IntPtr context)
    {
        Span<long> shape = stackalloc long[8];
        IntPtr input = OrtApiTable.Input(context, 0);
        int rank = OrtApiTable.Shape(input, shape).Rank;
        long elements = 1;
        foreach (long dim in shape[..rank])
        {
            elements *= dim;
        }

        var job = new Job
        {
            Input = (float*)OrtApiTable.Data(input),
            Output = (float*)OrtApiTable.Data(OrtApiTable.Output(context, 0, shape[..rank])),
            Elements = elements,
            Alpha = _alpha,
        };
        if (elements < InlineElements)
        {
            Apply(job.Input, job.Output, elements, job.Alpha);
        }
        else
        {
            OrtApiTable.ParallelFor(context, &Work, (int)((elements + ElementsPerItem - 1) / ElementsPerItem), &job);
        }
    }

    /// <summary>y = x · σ(α·x) over <paramref name="count"/> elements.</summary>
    internal static void Apply(float* x, float* y, long count, float alpha)
    {
        // ONNX Runtime computes SiLU (α = 1) with MLAS's SiLU routine, which clamps σ to [0, 1], and any other α with
        // its logistic routine, which clamps only at 0 (σ comes out as 1.0000001 for some x near 18): the same here.
        float ceiling = alpha == 1f ? 1f : float.PositiveInfinity;
        long i = 0;
        if (Avx512F.IsSupported)
        {
            for (; i + 16 <= count; i += 16)
            {
                Vector512<float> v = Vector512.Load(x + i);
                Avx512F.Multiply(v, Logistic(alpha == 1f ? v : Avx512F.Multiply(v, Vector512.Create(alpha)), ceiling)).Store(y + i);
            }
        }

        for (; i + 8 <= count; i += 8)
        {
            Vector256<float> v = Vector256.Load(x + i);
            Avx.Multiply(v, Logistic(alpha == 1f ? v : Avx.Multiply(v, Vector256.Create(alpha)), ceiling)).Store(y + i);
        }

        if (i < count)
        {
            // The tail through the same vector operations, as MLAS's masked tail does.
            float* buffer = stackalloc float[8];
            int rest = (int)(count - i);
            for (int k = 0; k < 8; k++)
            {
                buffer[k] = k < rest ? x[i + k] : 0f;
            }

            Vector256<float> v = Vector256.Load(buffer);
            Avx.Multiply(v, Logistic(alpha == 1f ? v : Avx.Multiply(v, Vector256.Create(alpha)), ceiling)).Store(buffer);
            for (int k = 0; k < rest; k++)
            {
                y[i + k] = buffer[k];
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Logistic(Vector256<float> x, float ceiling)
    {
        Vector256<float> v = Avx.Min(Vector256.Create(UpperRange), Avx.Max(Vector256.Create(LowerRange), x));
        Vector256<float> x2 = Avx.Multiply(v, v);
        Vector256<float> p = Fma.MultiplyAdd(x2, Vector256.Create(Alpha9), Vector256.Create(Alpha7));
        p = Fma.MultiplyAdd(x2, p, Vector256.Create(Alpha5));
        p = Fma.MultiplyAdd(x2, p, Vector256.Create(Alpha3));
        p = Fma.MultiplyAdd(x2, p, Vector256.Create(Alpha1));
        Vector256<float> q = Fma.MultiplyAdd(x2, Vector256.Create(Beta10), Vector256.Create(Beta8));
        q = Fma.MultiplyAdd(x2, q, Vector256.Create(Beta6));
        q = Fma.MultiplyAdd(x2, q, Vector256.Create(Beta4));
        q = Fma.MultiplyAdd(x2, q, Vector256.Create(Beta2));
        q = Fma.MultiplyAdd(x2, q, Vector256.Create(Beta0));
        p = Avx.Multiply(v, p);
        return Avx.Min(Vector256.Create(ceiling), Avx.Max(Vector256<float>.Zero, Avx.Add(Avx.Divide(p, q), Vector256.Create(0.5f))));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Logistic(Vector512<float> x, float ceiling)
    {
        Vector512<float> v = Avx512F.Min(Vector512.Create(UpperRange), Avx512F.Max(Vector512.Create(LowerRange), x));
        Vector512<float> x2 = Avx512F.Multiply(v, v);
        Vector512<float> p = Avx512F.FusedMultiplyAdd(x2, Vector512.Create(Alpha9), Vector512.Create(Alpha7));
        p = Avx512F.FusedMultiplyAdd(x2, p, Vector512.Create(Alpha5));
        p = Avx512F.FusedMultiplyAdd(x2, p, Vector512.Create(Alpha3));
        p = Avx512F.FusedMultiplyAdd(x2, p, Vector512.Create(Alpha1));
        Vector512<float> q = Avx512F.FusedMultiplyAdd(x2, Vector512.Create(Beta10), Vector512.Create(Beta8));
        q = Avx512F.FusedMultiplyAdd(x2, q, Vector512.Create(Beta6));
        q = Avx512F.FusedMultiplyAdd(x2, q, Vector512.Create(Beta4));
        q = Avx512F.FusedMultiplyAdd(x2, q, Vector512.Create(Beta2));
        q = Avx512F.FusedMultiplyAdd(x2, q, Vector512.Create(Beta0));
        p = Avx512F.Multiply(v, p);
        return Avx512F.Min(Vector512.Create(ceiling), Avx512F.Max(Vector512<float>.Zero, Avx512F.Add(Avx512F.Divide(p, q), Vector512.Create(0.5f))));
    }

    [UnmanagedCallersOnly]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Work(void* state, nuint index)
    {
        ref Job job = ref Unsafe.AsRef<Job>(state);
        long first = (long)index * ElementsPerItem;
        Apply(job.Input + first, job.Output + first, Math.Min(ElementsPerItem, job.Elements - first), job.Alpha);
    }

    private struct Job
    {
        public float* Input;
        public float* Output;
        public long Elements;
        public float Alpha;
    }
}
