using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace LlmAspire.Inference.Engine.Kernels;

/// <summary>
/// <c>com.llmaspire.SwiGlu</c>: y = SiLU(gate) · up over the output of the fused gate/up projection, [..., 2F] with the
/// gate in its first F columns and up in the last F, into [..., F] — what the graph spells Split, Sigmoid, Mul, Mul, and
/// ONNX Runtime runs as Split, QuickGelu and Mul: three operators, two intermediate tensors and, for ONNX Runtime's two,
/// its thread pool. <see cref="PackedMatMulRewriter"/> puts it in their place at load. Outputs equal theirs bit for bit:
/// SiLU through <see cref="QuickGeluKernel.Apply"/> (ONNX Runtime's own results, α = 1), then one float product per
/// element, as Mul computes it.
/// </summary>
internal sealed unsafe class SwiGluKernel : ICustomKernel
{
    /// <summary>The operator's name in <see cref="PackedMatMulKernel.Domain"/>.</summary>
    public const string Name = "SwiGlu";

    /// <summary>Output elements below which a call runs on the calling thread.</summary>
    private const long InlineElements = 1L << 17;

    /// <summary>Output elements per work item of a parallel call (whole rows, at least one).</summary>
    private const int ElementsPerItem = 1 << 14;

    private static readonly CustomOperatorSlot[] Inputs = [new(OrtApiTable.ElementFloat)];

    private static readonly CustomOperatorSlot[] Outputs = [new(OrtApiTable.ElementFloat)];

    /// <summary>Whether <see cref="QuickGeluKernel"/>'s arithmetic, which this one reuses, is ONNX Runtime's on this CPU.</summary>
    public static bool IsSupported => QuickGeluKernel.IsSupported;

    /// <summary>The operator, for <see cref="LlmAspireKernels"/>.</summary>
    public static CustomOperator Create() => new(Name, Inputs, Outputs, _ => new SwiGluKernel());

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Compute(IntPtr context)
    {
        Span<long> shape = stackalloc long[8];
        IntPtr input = OrtApiTable.Input(context, 0);
        int rank = OrtApiTable.Shape(input, shape).Rank;
        if (rank < 1 || shape[rank - 1] % 2 != 0 || shape[rank - 1] > int.MaxValue)
        {
            throw new InvalidOperationException($"SwiGlu expects [..., 2F]; it was given rank {rank} with last dimension {(rank > 0 ? shape[rank - 1] : 0)}.");
        }

        long rows = 1;
        for (int i = 0; i < rank - 1; i++)
        {
            rows *= shape[i];
        }

        int width = (int)(shape[rank - 1] / 2);
        shape[rank - 1] = width;
        var job = new Job
        {
            Input = (float*)OrtApiTable.Data(input),
            Output = (float*)OrtApiTable.Data(OrtApiTable.Output(context, 0, shape[..rank])),
            Rows = rows,
            Width = width,
            RowsPerItem = Math.Max(1, ElementsPerItem / Math.Max(1, width)),
        };
        if (rows * width < InlineElements)
        {
            Rows(ref job, 0, rows);
        }
        else
        {
            OrtApiTable.ParallelFor(context, &Work, checked((int)((rows + job.RowsPerItem - 1) / job.RowsPerItem)), &job);
        }
    }

    /// <summary>Rows <paramref name="first"/> to <paramref name="first"/> + <paramref name="count"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Rows(ref Job job, long first, long count)
    {
        int width = job.Width;
        for (long row = first; row < first + count; row++)
        {
            float* gate = job.Input + (row * 2 * width);
            float* output = job.Output + (row * width);
            float* up = gate + width;
            QuickGeluKernel.Apply(gate, output, width, 1f);
            int i = 0;
            for (; i + Vector512<float>.Count <= width; i += Vector512<float>.Count)
            {
                (Vector512.Load(output + i) * Vector512.Load(up + i)).Store(output + i);
            }

            for (; i < width; i++)
            {
                output[i] *= up[i];
            }
        }
    }

    [UnmanagedCallersOnly]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Work(void* state, nuint index)
    {
        ref Job job = ref Unsafe.AsRef<Job>(state);
        long first = (long)index * job.RowsPerItem;
        Rows(ref job, first, Math.Min(job.RowsPerItem, job.Rows - first));
    }

    private struct Job
    {
        public float* Input;
        public float* Output;
        public long Rows;
        public int Width;
        public int RowsPerItem;
    }
}
