using System.Numerics;
using LlmAspire.Inference.Models.Calibration;

namespace LlmAspire.Inference.Models.Quantization;

/// <summary>
/// GPTQ (Frantar et al. 2022, "GPTQ: Accurate Post-Training Quantization for Generative Pre-trained Transformers")
/// for one [K, N] weight: the input channels (rows of ONNX's B) are quantized in order, and each row's rounding error,
/// weighted by the upper Cholesky factor of the inverse Hessian H⁻¹ (H = 2XᵀX/n of the calibration activations, damped),
/// is subtracted from the rows not yet quantized. Groups are MatMulNBits's blocks along K: a block's scale and zero point
/// come from its rows as they stand when the block starts, after the errors of earlier blocks were folded in.
/// Updates beyond the current batch of rows are deferred and applied as one matrix product (the paper's lazy batches).
/// Act-order (rows by descending Hessian diagonal) is available with static groups (every block's scale from the
/// weights as given, so MatMulNBits needs no g_idx, whose CPU kernel dequantizes the whole weight on every call); on
/// stories260K it measured worse than natural order (KL 0.038 against 0.033), so the methods do not use it.
/// </summary>
internal static class GptqQuantizer
{
    /// <summary>The damping added to the Hessian's diagonal, as a fraction of its mean (the paper's 1 %).</summary>
    public const double DampFraction = 0.01;

    private const int LazyBatch = 128;

    public static QuantizedMatrix Quantize(
        float[] weight, int k, int n, int bits, int blockSize, bool symmetric, double[] hessian, OrtGemm gemm, bool activationOrder = false, double dampFraction = DampFraction, float[]? factor = null)
    {
        ArgumentNullException.ThrowIfNull(weight);
        ArgumentNullException.ThrowIfNull(hessian);
        ArgumentNullException.ThrowIfNull(gemm);
        if (hessian.Length != (long)k * k || weight.Length != (long)k * n)
        {
            throw new ArgumentException($"A [{k}, {n}] weight needs a [{k}, {k}] Hessian.", nameof(hessian));
        }

        // order[p] is the row of B quantized p-th: natural order, or by descending Hessian diagonal (act-order).
        int[] order = Enumerable.Range(0, k).ToArray();
        if (activationOrder)
        {
            order = [.. order.OrderByDescending(i => hessian[(long)i * k + i]).ThenBy(i => i)];
        }

        float[] w = new float[weight.Length];
        double[] h = new double[hessian.Length];
        for (int p = 0; p < k; p++)
        {
            Array.Copy(weight, order[p] * n, w, p * n, n);
            for (int q = 0; q < k; q++)
            {
                h[p * k + q] = hessian[order[p] * k + order[q]];
            }
        }

        float[] u;
        if (factor is not null && !activationOrder)
        {
            // The factor of this Hessian, computed once for every MatMul reading the same input (Factor).
            u = factor;
            for (int i = 0; i < k; i++)
            {
                if (hessian[(long)i * k + i] == 0)
                {
                    w.AsSpan(i * n, n).Clear();
                }
            }
        }
        else
        {
            u = InverseCholeskyUpper(h, k, w, n, dampFraction);
        }
        int blocks = (k + blockSize - 1) / blockSize;
        int maxCode = (1 << bits) - 1;
        byte[] codes = new byte[w.Length];
        float[] scales = new float[n * blocks];
        int[] zeroPoints = new int[n * blocks];
        float[] reciprocals = new float[n * blocks];
        if (activationOrder)
        {
            // Static groups: every block's scale and zero point from the weights as given, since act-order visits a
            // block's rows out of sequence; the blocks stay contiguous along K, so MatMulNBits needs no g_idx.
            float[] natural = new float[weight.Length];
            for (int p = 0; p < k; p++)
            {
                Array.Copy(w, p * n, natural, order[p] * n, n);
            }

            float[] importance = new float[k];
            for (int p = 0; p < k; p++)
            {
                importance[order[p]] = 1f / (u[p * k + p] * u[p * k + p]);
            }

            for (int block = 0; block < blocks; block++)
            {
                BlockParameters(natural, importance, k, n, block * blockSize, blockSize, bits, symmetric, scales, zeroPoints, reciprocals, blocks);
            }
        }

        int batch = Math.Max(LazyBatch, blockSize);
        for (int b0 = 0; b0 < k; b0 += batch)
        {
            int b1 = Math.Min(k, b0 + batch);
            float[] errors = new float[(b1 - b0) * n];
            for (int row = b0; row < b1; row++)
            {
                int original = order[row];
                int block = original / blockSize;
                if (!activationOrder && row % blockSize == 0)
                {
                    float[] importance = new float[k];
                    for (int i = row; i < Math.Min(k, row + blockSize); i++)
                    {
                        importance[i] = 1f / (u[i * k + i] * u[i * k + i]);
                    }

                    BlockParameters(w, importance, k, n, row, blockSize, bits, symmetric, scales, zeroPoints, reciprocals, blocks);
                }

                float diagonal = u[row * k + row];
                Span<float> error = errors.AsSpan((row - b0) * n, n);
                for (int column = 0; column < n; column++)
                {
                    int index = column * blocks + block;
                    float value = w[row * n + column];
                    int code = BlockQuantizer.Code(value, reciprocals[index], zeroPoints[index], maxCode);
                    codes[original * n + column] = (byte)code;
                    error[column] = (value - ((code - zeroPoints[index]) * scales[index])) / diagonal;
                }

                for (int next = row + 1; next < b1; next++)
                {
                    SubtractScaled(w.AsSpan(next * n, n), u[row * k + next], error);
                }
            }

            if (b1 < k)
            {
                // The deferred update of every later row: W[b1.., :] -= U[b0..b1, b1..]ᵀ · errors.
                int rest = k - b1, rows = b1 - b0;
                float[] coupling = new float[rows * rest];
                for (int r = 0; r < rows; r++)
                {
                    Array.Copy(u, (b0 + r) * k + b1, coupling, r * rest, rest);
                }

                float[] update = gemm.Multiply(coupling, errors, rest, rows, n, transposeA: true);
                SubtractScaled(w.AsSpan(b1 * n), 1f, update);
            }
        }

        return BlockQuantizer.Pack(k, n, bits, blockSize, symmetric, codes, scales, zeroPoints);
    }

    /// <summary>
    /// The scale and zero point of the block of rows [<paramref name="row0"/>, +blockSize) of every column, searched
    /// for the least rounding error weighted by each row's <paramref name="importance"/> (GPTQ's 1/[H⁻¹]_qq: the
    /// loss a unit error on that row costs once the later rows have compensated what they can).
    /// </summary>
    private static void BlockParameters(
        float[] w, float[] importance, int k, int n, int row0, int blockSize, int bits, bool symmetric, float[] scales, int[] zeroPoints, float[] reciprocals, int blocks)
    {
        int length = Math.Min(blockSize, k - row0);
        int block = row0 / blockSize;
        Parallel.For(0, n, new ParallelOptions { MaxDegreeOfParallelism = n * length > 1 << 16 ? -1 : 1 }, () => new float[length], (column, _, buffer) =>
        {
            for (int i = 0; i < length; i++)
            {
                buffer[i] = w[(row0 + i) * n + column];
            }

            int index = column * blocks + block;
            zeroPoints[index] = BlockQuantizer.SearchedBlockParameters(buffer, bits, symmetric, out scales[index], importance.AsSpan(row0, length));
            reciprocals[index] = scales[index] != 0f ? 1f / scales[index] : 0f;
            return buffer;
        }, _ => { });
    }

    /// <summary>
    /// <see cref="InverseCholeskyUpper"/> of <paramref name="hessian"/> alone, for <see cref="Quantize"/>'s
    /// <c>factor</c>: the inverse Cholesky is most of GPTQ's time on wide inputs (30 s of 31 s for K = 3072, N = 768 on
    /// the shared 2-core machine), and q/k/v or gate/up read one input, so one factor serves them all.
    /// </summary>
    internal static float[] Factor(double[] hessian, int k, double dampFraction = DampFraction) =>
        InverseCholeskyUpper(hessian, k, new float[k], 1, dampFraction);

    /// <summary>
    /// The upper Cholesky factor U of the damped H⁻¹ (H⁻¹ = UᵀU), as float32 [K, K]. Channels no calibration token
    /// reached (zero diagonal) get diagonal 1 and their weight rows zeroed, as the reference implementation does.
    /// Computed without forming H⁻¹: with P the order-reversing permutation and PHP = LLᵀ, U = P L⁻¹ P.
    /// </summary>
    internal static float[] InverseCholeskyUpper(double[] hessian, int k, float[] weight, int n, double dampFraction = DampFraction)
    {
        double[] h = (double[])hessian.Clone();
        double mean = 0;
        for (int i = 0; i < k; i++)
        {
            if (h[i * k + i] == 0)
            {
                h[i * k + i] = 1;
                weight.AsSpan(i * n, n).Clear();
            }

            mean += h[i * k + i];
        }

        double damp = dampFraction * mean / k;
        for (int attempt = 0; ; attempt++)
        {
            double[] reversed = new double[h.Length];
            for (int i = 0; i < k; i++)
            {
                for (int j = 0; j < k; j++)
                {
                    reversed[i * k + j] = h[(k - 1 - i) * k + (k - 1 - j)];
                }

                reversed[i * k + i] += damp;
            }

            if (CholeskyLower(reversed, k))
            {
                double[] inverse = InvertLower(reversed, k);
                float[] u = new float[h.Length];
                for (int i = 0; i < k; i++)
                {
                    for (int j = i; j < k; j++)
                    {
                        u[i * k + j] = (float)inverse[(k - 1 - i) * k + (k - 1 - j)];
                    }
                }

                return u;
            }

            if (attempt == 5)
            {
                throw new InvalidDataException("The calibration Hessian is not positive definite even with damping; use more calibration text.");
            }

            damp *= 10;
        }
    }

    /// <summary>Columns per panel of <see cref="CholeskyLower"/> and <see cref="InvertLower"/>.</summary>
    private const int Panel = 64;

    /// <summary>
    /// In-place Cholesky: the lower triangle of <paramref name="a"/> becomes L (A = LLᵀ); false when A is not positive
    /// definite. Blocked left-looking by panels of <see cref="Panel"/> columns: each row's part left of a panel is read
    /// once per panel, with the panel's rows held in cache, instead of once per column — at K = 3072 the unblocked loop
    /// streamed about 40 GB from memory (K³/6 doubles) and took most of GPTQ's time.
    /// </summary>
    private static bool CholeskyLower(double[] a, int k)
    {
        for (int p0 = 0; p0 < k; p0 += Panel)
        {
            int p1 = Math.Min(k, p0 + Panel);
            int first = p0;

            // The panel's columns minus what the columns left of the panel contribute, every row at or below the panel.
            if (first > 0)
            {
                Parallel.For(first, k, new ParallelOptions { MaxDegreeOfParallelism = (k - first) * first > 1 << 16 ? -1 : 1 }, i =>
                {
                    ReadOnlySpan<double> rowI = a.AsSpan(i * k, first);
                    int last = Math.Min(p1, i + 1);
                    for (int j = first; j < last; j++)
                    {
                        a[i * k + j] -= Dot(rowI, a.AsSpan(j * k, first));
                    }
                });
            }

            // The diagonal block, column by column with in-panel terms only.
            for (int j = p0; j < p1; j++)
            {
                double diagonal = a[j * k + j] - Dot(a.AsSpan(j * k + p0, j - p0), a.AsSpan(j * k + p0, j - p0));
                if (!(diagonal > 0))
                {
                    return false;
                }

                double ljj = Math.Sqrt(diagonal);
                a[j * k + j] = ljj;
                for (int i = j + 1; i < p1; i++)
                {
                    a[i * k + j] = (a[i * k + j] - Dot(a.AsSpan(i * k + p0, j - p0), a.AsSpan(j * k + p0, j - p0))) / ljj;
                }
            }

            // The rows below the block, each on its own (a triangular solve against the diagonal block).
            int below = p1;
            Parallel.For(below, k, new ParallelOptions { MaxDegreeOfParallelism = k - below > 256 ? -1 : 1 }, i =>
            {
                for (int j = p0; j < p1; j++)
                {
                    a[i * k + j] = (a[i * k + j] - Dot(a.AsSpan(i * k + p0, j - p0), a.AsSpan(j * k + p0, j - p0))) / a[j * k + j];
                }
            });
        }

        for (int i = 0; i < k; i++)
        {
            a.AsSpan(i * k + i + 1, k - i - 1).Clear();
        }

        return true;
    }

    /// <summary>
    /// L⁻¹ of a lower-triangular L by forward substitution, a panel of <see cref="Panel"/> columns at a time: the panels
    /// are independent of one another, and within one each row of L is read once for all of its columns (kept
    /// contiguous, column-major, so every dot product runs over adjacent memory).
    /// </summary>
    private static double[] InvertLower(double[] l, int k)
    {
        double[] inverse = new double[l.Length];
        int panels = (k + Panel - 1) / Panel;
        Parallel.For(0, panels, () => new double[Panel * k], (panel, _, x) =>
        {
            int p0 = panel * Panel;
            int width = Math.Min(Panel, k - p0);
            for (int c = 0; c < width; c++)
            {
                int j = p0 + c;
                x[c * k + j] = 1 / l[j * k + j];
            }

            for (int i = p0 + 1; i < k; i++)
            {
                double lii = l[i * k + i];
                int columns = Math.Min(width, i - p0);
                for (int c = 0; c < columns; c++)
                {
                    int j = p0 + c;
                    x[c * k + i] = -Dot(l.AsSpan(i * k + j, i - j), x.AsSpan(c * k + j, i - j)) / lii;
                }
            }

            for (int c = 0; c < width; c++)
            {
                int j = p0 + c;
                for (int i = j; i < k; i++)
                {
                    inverse[i * k + j] = x[c * k + i];
                }
            }

            return x;
        }, _ => { });
        return inverse;
    }

    /// <summary>
    /// Σ a[i]·b[i], with four vector accumulators: one accumulator waits on its own previous add every step (a
    /// chain of floating-point add latencies), four keep the multiply-add units busy. The factorizations spend their time here.
    /// </summary>
    private static double Dot(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        double sum = 0;
        int i = 0;
        int width = Vector<double>.Count;
        if (Vector.IsHardwareAccelerated && a.Length >= width)
        {
            Vector<double> acc0 = Vector<double>.Zero, acc1 = Vector<double>.Zero, acc2 = Vector<double>.Zero, acc3 = Vector<double>.Zero;
            for (; i <= a.Length - 4 * width; i += 4 * width)
            {
                acc0 += new Vector<double>(a[i..]) * new Vector<double>(b[i..]);
                acc1 += new Vector<double>(a[(i + width)..]) * new Vector<double>(b[(i + width)..]);
                acc2 += new Vector<double>(a[(i + 2 * width)..]) * new Vector<double>(b[(i + 2 * width)..]);
                acc3 += new Vector<double>(a[(i + 3 * width)..]) * new Vector<double>(b[(i + 3 * width)..]);
            }

            for (; i <= a.Length - width; i += width)
            {
                acc0 += new Vector<double>(a[i..]) * new Vector<double>(b[i..]);
            }

            sum = Vector.Sum((acc0 + acc1) + (acc2 + acc3));
        }

        for (; i < a.Length; i++)
        {
            sum += a[i] * b[i];
        }

        return sum;
    }

    /// <summary>target -= factor * values.</summary>
    internal static void SubtractScaled(Span<float> target, float factor, ReadOnlySpan<float> values)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var f = new Vector<float>(factor);
            for (; i <= target.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                (new Vector<float>(target[i..]) - (f * new Vector<float>(values[i..]))).CopyTo(target[i..]);
            }
        }

        for (; i < target.Length; i++)
        {
            target[i] -= factor * values[i];
        }
    }
}
