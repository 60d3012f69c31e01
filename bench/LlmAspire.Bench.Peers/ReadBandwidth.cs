using System.Diagnostics;
using System.Numerics;

namespace LlmAspire.Bench.Peers;

/// <summary>
/// Read bandwidth as a decoder sees it: threads summing disjoint slices of a 1 GiB float array (far beyond any cache),
/// the best of several passes. The single-stream float32 rows are reported as a share of it.
/// </summary>
internal static class ReadBandwidth
{
    private const long Bytes = 1L << 30;
    private const int Passes = 5;

    /// <summary>Bytes per second read by <paramref name="threads"/> threads.</summary>
    public static double Measure(int threads)
    {
        float[] data = GC.AllocateUninitializedArray<float>((int)(Bytes / sizeof(float)));
        data.AsSpan().Fill(1f); // touch every page before timing
        double best = 0;
        for (int pass = 0; pass < Passes; pass++)
        {
            float[] partial = new float[threads];
            int slice = data.Length / threads;
            using var start = new Barrier(threads + 1);
            var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
            {
                start.SignalAndWait();
                partial[t] = Sum(data.AsSpan(t * slice, t == threads - 1 ? data.Length - t * slice : slice));
            })).ToList();
            workers.ForEach(w => w.Start());
            start.SignalAndWait();
            var stopwatch = Stopwatch.StartNew();
            workers.ForEach(w => w.Join());
            best = Math.Max(best, Bytes / stopwatch.Elapsed.TotalSeconds);
        }

        return best;
    }

    private static float Sum(ReadOnlySpan<float> values)
    {
        var a = Vector<float>.Zero;
        var b = Vector<float>.Zero;
        var c = Vector<float>.Zero;
        var d = Vector<float>.Zero;
        int n = Vector<float>.Count, i = 0;
        for (; i + 4 * n <= values.Length; i += 4 * n)
        {
            a += new Vector<float>(values[i..]);
            b += new Vector<float>(values[(i + n)..]);
            c += new Vector<float>(values[(i + 2 * n)..]);
            d += new Vector<float>(values[(i + 3 * n)..]);
        }

        float sum = Vector.Sum(a + b + c + d);
        for (; i < values.Length; i++)
        {
            sum += values[i];
        }

        return sum;
    }
}
