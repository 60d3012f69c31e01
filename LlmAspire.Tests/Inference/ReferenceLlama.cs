using LlmAspire.Inference.Models;

namespace LlmAspire.Tests.Inference;

/// <summary>
/// A plain C# Llama forward pass, one token at a time with its own KV cache: a line-by-line port of
/// llama2.c's run.c. No ONNX Runtime; the ground truth the ONNX graph is checked against.
/// </summary>
internal sealed class ReferenceLlama
{
    private readonly LlamaConfig _c;
    private readonly LlamaWeights _w;
    private readonly float[][] _keyCache;
    private readonly float[][] _valueCache;
    private readonly bool _rotateHalves;
    private int _position;

    /// <param name="config">Model shape.</param>
    /// <param name="weights">Weights in the checkpoint's own layout.</param>
    /// <param name="rotateHalves">Hugging Face RoPE: rotate (x[i], x[i + d/2]) instead of llama2.c's adjacent pairs.</param>
    public ReferenceLlama(LlamaConfig config, LlamaWeights weights, bool rotateHalves = false)
    {
        _c = config;
        _w = weights;
        _rotateHalves = rotateHalves;
        int kvDim = config.KvHeads * config.HeadSize;
        _keyCache = [.. Enumerable.Range(0, config.Layers).Select(_ => new float[config.ContextLength * kvDim])];
        _valueCache = [.. Enumerable.Range(0, config.Layers).Select(_ => new float[config.ContextLength * kvDim])];
    }

    /// <summary>Logits after feeding <paramref name="token"/> at the next position.</summary>
    public float[] Forward(int token)
    {
        int dim = _c.Dim, hs = _c.HeadSize, kvDim = _c.KvHeads * hs, kvMul = _c.Heads / _c.KvHeads, pos = _position++;
        float[] x = _w.TokenEmbedding.AsSpan(token * dim, dim).ToArray();
        float[] xb = new float[dim], q = new float[dim], k = new float[kvDim], v = new float[kvDim];
        float[] hb = new float[_c.HiddenDim], hb2 = new float[_c.HiddenDim], att = new float[pos + 1];

        for (int l = 0; l < _c.Layers; l++)
        {
            RmsNorm(xb, x, _w.AttentionNorm[l]);
            MatMul(q, xb, _w.Wq[l], dim, dim);
            MatMul(k, xb, _w.Wk[l], dim, kvDim);
            MatMul(v, xb, _w.Wv[l], dim, kvDim);

            if (_rotateHalves)
            {
                RotateHalves(q, _c.Heads, pos);
                RotateHalves(k, _c.KvHeads, pos);
            }

            for (int i = 0; i < dim && !_rotateHalves; i += 2)
            {
                int headDim = i % hs;
                float freq = 1.0f / MathF.Pow(_c.RopeTheta, headDim / (float)hs);
                float angle = pos * freq;
                float fcr = MathF.Cos(angle), fci = MathF.Sin(angle);
                Rotate(q, i, fcr, fci);
                if (i < kvDim)
                {
                    Rotate(k, i, fcr, fci);
                }
            }

            Array.Copy(k, 0, _keyCache[l], pos * kvDim, kvDim);
            Array.Copy(v, 0, _valueCache[l], pos * kvDim, kvDim);

            Array.Clear(xb);
            for (int h = 0; h < _c.Heads; h++)
            {
                int kvHead = h / kvMul;
                for (int t = 0; t <= pos; t++)
                {
                    float score = 0;
                    for (int i = 0; i < hs; i++)
                    {
                        score += q[h * hs + i] * _keyCache[l][t * kvDim + kvHead * hs + i];
                    }

                    att[t] = score / MathF.Sqrt(hs);
                }

                Softmax(att.AsSpan(0, pos + 1));
                for (int t = 0; t <= pos; t++)
                {
                    for (int i = 0; i < hs; i++)
                    {
                        xb[h * hs + i] += att[t] * _valueCache[l][t * kvDim + kvHead * hs + i];
                    }
                }
            }

            float[] attentionOut = new float[dim];
            MatMul(attentionOut, xb, _w.Wo[l], dim, dim);
            for (int i = 0; i < dim; i++)
            {
                x[i] += attentionOut[i];
            }

            RmsNorm(xb, x, _w.FfnNorm[l]);
            MatMul(hb, xb, _w.W1[l], dim, _c.HiddenDim);
            MatMul(hb2, xb, _w.W3[l], dim, _c.HiddenDim);
            for (int i = 0; i < _c.HiddenDim; i++)
            {
                float g = hb[i];
                hb[i] = g * (1f / (1f + MathF.Exp(-g))) * hb2[i];
            }

            float[] down = new float[dim];
            MatMul(down, hb, _w.W2[l], _c.HiddenDim, dim);
            for (int i = 0; i < dim; i++)
            {
                x[i] += down[i];
            }
        }

        RmsNorm(x, x, _w.FinalNorm);
        float[] logits = new float[_c.VocabSize];
        MatMul(logits, x, _w.Classifier, dim, _c.VocabSize);
        return logits;
    }

    private void RmsNorm(float[] o, float[] x, float[] weight)
    {
        float ss = 0;
        foreach (float value in x)
        {
            ss += value * value;
        }

        ss = 1f / MathF.Sqrt(ss / x.Length + _c.NormEpsilon);
        for (int i = 0; i < x.Length; i++)
        {
            o[i] = weight[i] * (ss * x[i]);
        }
    }

    /// <summary>W [d, n] row-major times x [n] = xout [d].</summary>
    private static void MatMul(float[] xout, float[] x, float[] w, int n, int d)
    {
        for (int i = 0; i < d; i++)
        {
            float sum = 0;
            for (int j = 0; j < n; j++)
            {
                sum += w[i * n + j] * x[j];
            }

            xout[i] = sum;
        }
    }

    /// <summary>transformers' rotate_half: per head, pair i with i + d/2 at frequency theta^(-2i/d).</summary>
    private void RotateHalves(float[] vector, int heads, int pos)
    {
        int hs = _c.HeadSize, half = hs / 2;
        for (int h = 0; h < heads; h++)
        {
            for (int i = 0; i < half; i++)
            {
                float freq = 1.0f / MathF.Pow(_c.RopeTheta, 2 * i / (float)hs);
                float angle = pos * freq;
                float cos = MathF.Cos(angle), sin = MathF.Sin(angle);
                int a = h * hs + i, b = a + half;
                float x0 = vector[a], x1 = vector[b];
                vector[a] = x0 * cos - x1 * sin;
                vector[b] = x1 * cos + x0 * sin;
            }
        }
    }

    private static void Rotate(float[] vector, int i, float fcr, float fci)
    {
        float v0 = vector[i], v1 = vector[i + 1];
        vector[i] = v0 * fcr - v1 * fci;
        vector[i + 1] = v0 * fci + v1 * fcr;
    }

    private static void Softmax(Span<float> x)
    {
        float max = float.NegativeInfinity;
        foreach (float value in x)
        {
            max = MathF.Max(max, value);
        }

        float sum = 0;
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = MathF.Exp(x[i] - max);
            sum += x[i];
        }

        for (int i = 0; i < x.Length; i++)
        {
            x[i] /= sum;
        }
    }
}
