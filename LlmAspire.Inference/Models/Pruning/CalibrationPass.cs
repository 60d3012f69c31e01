using System.Numerics;
using System.Runtime.InteropServices;

namespace LlmAspire.Inference.Models.Pruning;

/// <summary>
/// A plain float32 forward pass over <see cref="LlamaWeights"/>, a whole sequence at a time, that records what pruning
/// decides by (<see cref="CalibrationStatistics"/>) instead of logits. It computes what <see cref="LlamaOnnxBuilder"/>'s
/// graph computes: the same rotary tables (<see cref="LlamaOnnxBuilder.RotaryTables"/>, adjacent pairs), q/k norms before
/// the rotation, biases, sliding windows, attention softcap, sandwich norms, SwiGLU or GeGLU. Every output element is one
/// dot product made by one thread in a fixed order, and the statistics are summed in double in token order, so the
/// result is the same on every run.
/// </summary>
public static class CalibrationPass
{
    /// <summary>Runs each of <paramref name="sequences"/> (token ids, each its own causal context) through the model.</summary>
    public static CalibrationStatistics Run(LlamaConfig config, LlamaWeights weights, IReadOnlyList<int[]> sequences)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(sequences);
        weights.Validate(config);
        int longest = sequences.Count == 0 ? 0 : sequences.Max(s => s.Length);
        if (longest == 0)
        {
            throw new ArgumentException("The calibration has no tokens.", nameof(sequences));
        }

        if (longest > config.ContextLength)
        {
            throw new ArgumentException($"A calibration sequence has {longest} tokens, the context {config.ContextLength}.", nameof(sequences));
        }

        var state = new Accumulator(config, longest);
        foreach (int[] sequence in sequences.Where(s => s.Length > 0))
        {
            state.Run(weights, sequence);
        }

        return state.Result(weights);
    }

    private sealed class Accumulator
    {
        private readonly LlamaConfig _c;
        private readonly float[] _cos, _sin;
        private readonly float[]? _localCos, _localSin;
        private readonly double[] _cosineSum;
        private readonly double[][] _ffnSquares;
        private readonly double[][] _groupSquares;
        private int _tokens;

        public Accumulator(LlamaConfig config, int longest)
        {
            _c = config;
            LlamaConfig tables = config with { ContextLength = longest };
            (_cos, _sin) = LlamaOnnxBuilder.RotaryTables(tables);
            if (Enumerable.Range(0, config.Layers).Any(config.UsesLocalRope))
            {
                (_localCos, _localSin) = LlamaOnnxBuilder.RotaryTables(tables with { RopeTheta = config.LocalRopeTheta, RopeScaling = null });
            }

            _cosineSum = new double[config.Layers];
            _ffnSquares = [.. Enumerable.Range(0, config.Layers).Select(_ => new double[config.HiddenDim])];
            _groupSquares = [.. Enumerable.Range(0, config.Layers).Select(_ => new double[config.KvHeads])];
        }

        public void Run(LlamaWeights w, int[] tokens)
        {
            int t = tokens.Length, dim = _c.Dim, hidden = _c.HiddenDim, hs = _c.HeadSize;
            int heads = _c.Heads, kvHeads = _c.KvHeads, qDim = _c.QueryDim, kvDim = _c.KvDim, group = heads / kvHeads;
            float[] x = new float[t * dim];
            for (int i = 0; i < t; i++)
            {
                w.TokenEmbedding.AsSpan(tokens[i] * dim, dim).CopyTo(x.AsSpan(i * dim, dim));
            }

            if (_c.EmbeddingMultiplier != 0)
            {
                for (int i = 0; i < x.Length; i++)
                {
                    x[i] *= _c.EmbeddingMultiplier;
                }
            }

            float[] normed = new float[t * dim], q = new float[t * qDim], k = new float[t * kvDim], v = new float[t * kvDim];
            float[] attention = new float[t * qDim], projected = new float[t * dim], before = new float[t * dim];
            float[] gate = new float[t * hidden], up = new float[t * hidden], down = new float[t * dim];
            float scale = 1f / MathF.Sqrt(_c.QueryPreAttnScalar > 0 ? _c.QueryPreAttnScalar : hs);
            for (int l = 0; l < _c.Layers; l++)
            {
                x.CopyTo(before, 0);
                RmsNorm(normed, x, w.AttentionNorm[l], dim);
                MatMul(q, normed, w.Wq[l], t, dim, qDim, w.Bq?[l]);
                MatMul(k, normed, w.Wk[l], t, dim, kvDim, w.Bk?[l]);
                MatMul(v, normed, w.Wv[l], t, dim, kvDim, w.Bv?[l]);
                if (_c.QkNorm)
                {
                    RmsNorm(q, q, w.QNorm![l], hs);
                    RmsNorm(k, k, w.KNorm![l], hs);
                }

                (float[] cos, float[] sin) = _c.UsesLocalRope(l) ? (_localCos!, _localSin!) : (_cos, _sin);
                Rotate(q, t, heads, cos, sin);
                Rotate(k, t, kvHeads, cos, sin);
                Attend(attention, q, k, v, t, scale, _c.WindowOf(l));

                MatMul(projected, attention, w.Wo[l], t, qDim, dim, w.Bo?[l]);
                AccumulateGroups(_groupSquares[l], attention, w.Wo[l], t, group);
                if (_c.SandwichNorms)
                {
                    RmsNorm(projected, projected, w.PostAttentionNorm![l], dim);
                }

                Add(x, projected);
                RmsNorm(normed, x, w.FfnNorm[l], dim);
                MatMul(gate, normed, w.W1[l], t, dim, hidden, null);
                MatMul(up, normed, w.W3[l], t, dim, hidden, null);
                bool gelu = _c.HiddenAct == "gelu_pytorch_tanh";
                double[] squares = _ffnSquares[l];
                for (int i = 0; i < t; i++)
                {
                    for (int j = 0; j < hidden; j++)
                    {
                        float g = gate[i * hidden + j];
                        float a = (gelu ? Gelu(g) : g / (1f + MathF.Exp(-g))) * up[i * hidden + j];
                        gate[i * hidden + j] = a;
                        squares[j] += (double)a * a;
                    }
                }

                MatMul(down, gate, w.W2[l], t, hidden, dim, null);
                if (_c.SandwichNorms)
                {
                    RmsNorm(down, down, w.PostFfnNorm![l], dim);
                }

                Add(x, down);
                for (int i = 0; i < t; i++)
                {
                    _cosineSum[l] += Cosine(before.AsSpan(i * dim, dim), x.AsSpan(i * dim, dim));
                }
            }

            _tokens += t;
        }

        public CalibrationStatistics Result(LlamaWeights w)
        {
            int dim = _c.Dim, hidden = _c.HiddenDim;
            var ffn = new double[_c.Layers][];
            for (int l = 0; l < _c.Layers; l++)
            {
                ffn[l] = new double[hidden];
                for (int j = 0; j < hidden; j++)
                {
                    double column = 0;
                    for (int r = 0; r < dim; r++)
                    {
                        double value = w.W2[l][r * hidden + j];
                        column += value * value;
                    }

                    ffn[l][j] = Math.Sqrt(_ffnSquares[l][j]) * Math.Sqrt(column);
                }
            }

            return new CalibrationStatistics
            {
                BlockInfluence = [.. _cosineSum.Select(sum => 1 - sum / _tokens)],
                FfnImportance = ffn,
                HeadGroupImportance = [.. _groupSquares.Select(g => g.Select(Math.Sqrt).ToArray())],
                Tokens = _tokens,
            };
        }

        /// <summary>Causal attention of every query head over its KV head, with the layer's window and softcap.</summary>
        private void Attend(float[] output, float[] q, float[] k, float[] v, int t, float scale, int window)
        {
            int hs = _c.HeadSize, heads = _c.Heads, qDim = _c.QueryDim, kvDim = _c.KvDim, group = heads / _c.KvHeads;
            float cap = _c.AttentionSoftcap;
            Parallel.For(0, heads, h =>
            {
                int kv = h / group;
                double[] scores = new double[t];
                for (int i = 0; i < t; i++)
                {
                    int first = window > 0 ? Math.Max(0, i - window + 1) : 0;
                    ReadOnlySpan<float> query = q.AsSpan(i * qDim + h * hs, hs);
                    double max = double.NegativeInfinity;
                    for (int j = first; j <= i; j++)
                    {
                        float s = Dot(query, k.AsSpan(j * kvDim + kv * hs, hs)) * scale;
                        if (cap > 0)
                        {
                            s = MathF.Tanh(s / cap) * cap;
                        }

                        scores[j] = s;
                        max = Math.Max(max, s);
                    }

                    double sum = 0;
                    for (int j = first; j <= i; j++)
                    {
                        scores[j] = Math.Exp(scores[j] - max);
                        sum += scores[j];
                    }

                    Span<float> result = output.AsSpan(i * qDim + h * hs, hs);
                    result.Clear();
                    for (int j = first; j <= i; j++)
                    {
                        float p = (float)(scores[j] / sum);
                        ReadOnlySpan<float> value = v.AsSpan(j * kvDim + kv * hs, hs);
                        for (int d = 0; d < hs; d++)
                        {
                            result[d] += p * value[d];
                        }
                    }
                }
            });
        }

        /// <summary>Adds, per KV group, ‖Σ over its query heads of o_proj's columns of the head × the head's output‖² over the tokens.</summary>
        private void AccumulateGroups(double[] squares, float[] attention, float[] wo, int t, int group)
        {
            int hs = _c.HeadSize, qDim = _c.QueryDim, dim = _c.Dim, width = group * hs;
            Parallel.For(0, _c.KvHeads, g =>
            {
                double total = 0;
                for (int i = 0; i < t; i++)
                {
                    ReadOnlySpan<float> heads = attention.AsSpan(i * qDim + g * width, width);
                    for (int r = 0; r < dim; r++)
                    {
                        double y = Dot(wo.AsSpan(r * qDim + g * width, width), heads);
                        total += y * y;
                    }
                }

                squares[g] += total;
            });
        }

        /// <summary>Adjacent-pair rotation of every head of every token by the rotary tables (pairs past the table's real ones turn by 0).</summary>
        private void Rotate(float[] values, int t, int heads, float[] cos, float[] sin)
        {
            int hs = _c.HeadSize, half = _c.AttentionHeadSize / 2, width = heads * hs;
            for (int i = 0; i < t; i++)
            {
                for (int h = 0; h < heads; h++)
                {
                    int b = i * width + h * hs;
                    for (int p = 0; p < hs / 2; p++)
                    {
                        float c = cos[i * half + p], s = sin[i * half + p];
                        float v0 = values[b + 2 * p], v1 = values[b + 2 * p + 1];
                        values[b + 2 * p] = v0 * c - v1 * s;
                        values[b + 2 * p + 1] = v0 * s + v1 * c;
                    }
                }
            }
        }

        /// <summary>RMSNorm of every <paramref name="width"/>-long row of <paramref name="input"/> into <paramref name="output"/> (may be the same array).</summary>
        private void RmsNorm(float[] output, float[] input, float[] weight, int width)
        {
            for (int r = 0; r < input.Length / width; r++)
            {
                ReadOnlySpan<float> row = input.AsSpan(r * width, width);
                float ss = Dot(row, row);
                float inv = 1f / MathF.Sqrt(ss / width + _c.NormEpsilon);
                for (int i = 0; i < width; i++)
                {
                    output[r * width + i] = weight[i] * (input[r * width + i] * inv);
                }
            }
        }

        private static float Gelu(float x) => 0.5f * x * (1f + MathF.Tanh(0.7978845608f * (x + 0.044715f * x * x * x)));

        private static void Add(float[] x, float[] y)
        {
            for (int i = 0; i < x.Length; i++)
            {
                x[i] += y[i];
            }
        }

        private static double Cosine(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
        {
            double ab = 0, aa = 0, bb = 0;
            for (int i = 0; i < a.Length; i++)
            {
                ab += (double)a[i] * b[i];
                aa += (double)a[i] * a[i];
                bb += (double)b[i] * b[i];
            }

            return aa == 0 || bb == 0 ? 1 : ab / Math.Sqrt(aa * bb);
        }

        /// <summary>Y[t, outDim] = X[t, inDim] · W[outDim, inDim]ᵀ (+ bias), one output row of W per task.</summary>
        private static void MatMul(float[] y, float[] x, float[] w, int t, int inDim, int outDim, float[]? bias)
        {
            Parallel.For(0, outDim, o =>
            {
                ReadOnlySpan<float> row = w.AsSpan(o * inDim, inDim);
                float b = bias?[o] ?? 0f;
                for (int i = 0; i < t; i++)
                {
                    y[i * outDim + o] = Dot(x.AsSpan(i * inDim, inDim), row) + b;
                }
            });
        }

        private static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
        {
            int n = a.Length, i = 0;
            var sum = Vector<float>.Zero;
            ReadOnlySpan<Vector<float>> va = MemoryMarshal.Cast<float, Vector<float>>(a), vb = MemoryMarshal.Cast<float, Vector<float>>(b);
            for (int j = 0; j < va.Length && j < vb.Length; j++)
            {
                sum += va[j] * vb[j];
            }

            i = Math.Min(va.Length, vb.Length) * Vector<float>.Count;
            float result = Vector.Sum(sum);
            for (; i < n; i++)
            {
                result += a[i] * b[i];
            }

            return result;
        }
    }
}
