using LlmAspire.Inference.Models;

namespace LlmAspire.Tests.Inference.HuggingFace;

/// <summary>
/// A float64 forward pass written from transformers' modeling code, one token at a time with its own KV cache:
/// <c>LlamaRMSNorm</c>, q/k/v projections with their biases (Qwen2; <c>attention_bias</c>), Qwen3's per-head
/// <c>q_norm</c>/<c>k_norm</c> before the rotary embedding, <c>apply_rotary_pos_emb</c> with <c>rotate_half</c> (Phi-3's
/// on the first rotary_dim dimensions only, the rest passed through), the inverse frequencies of modeling_rope_utils.py
/// (default, linear, dynamic, llama3, longrope with its attention factor), <c>repeat_kv</c>, the causal mask
/// with masking_utils' sliding window (a key is seen when <c>kv_idx &gt; q_idx - sliding_window</c>), o_proj, SwiGLU.
/// Gemma 2 (<c>modeling_gemma2.py</c>): embeddings × the normalizer, <c>Gemma2RMSNorm</c> (× (1 + w)), the sandwich norms,
/// scaling query_pre_attn_scalar^-0.5, <c>attn_logit_softcapping</c> (tanh(s / cap) · cap), GeGLU with
/// <c>gelu_pytorch_tanh</c>, <c>final_logit_softcapping</c>. Gemma 3 (<c>modeling_gemma3.py</c>): Gemma 2's layer with
/// <c>Gemma3RMSNorm</c> (× (1 + w)) as q_norm/k_norm per head before the rotary embedding, and the local layers'
/// own rotary embedding (<c>rope_local_base_freq</c>, default RoPE) beside the global one (<c>rope_theta</c>, <c>rope_scaling</c>).
/// Weights are in the checkpoint's own layout (halves rotated, nothing interleaved). No ONNX Runtime, and none of the
/// importer's or builder's code: the ground truth the imported graph is checked against.
/// </summary>
internal sealed class ReferenceTransformer
{
    private readonly LlamaConfig _c;
    private readonly LlamaWeights _w;
    private readonly int[] _windows;
    private readonly int _maxPositionEmbeddings;
    private readonly LongRope? _longRope;
    private readonly double _attentionFactor;
    private readonly LocalRope? _localRope;
    private readonly List<double[]>[] _keys;
    private readonly List<double[]>[] _values;
    private int _position;

    /// <param name="config">The shape: head size, heads, RoPE theta and scaling, norm epsilon.</param>
    /// <param name="weights">Hugging Face layout; biases and q/k norms are used when present.</param>
    /// <param name="windows">Per layer, the sliding window (0 = full attention); null for none.</param>
    /// <param name="maxPositionEmbeddings">config.json's max_position_embeddings (dynamic NTK's threshold); 0 = the context length.</param>
    /// <param name="longRope">rope_scaling longrope as config.json states it (the config's own RopeScaling is ignored then).</param>
    /// <param name="attentionFactor">longrope's explicit attention_factor; 0 derives it from the lengths.</param>
    /// <param name="localRope">Gemma 3: the base of the layers whose layer_type is sliding_attention, and which those are.</param>
    public ReferenceTransformer(
        LlamaConfig config, LlamaWeights weights, int[]? windows = null, int maxPositionEmbeddings = 0, LongRope? longRope = null, double attentionFactor = 0, LocalRope? localRope = null)
    {
        _localRope = localRope;
        _longRope = longRope;
        _attentionFactor = attentionFactor;
        _c = config;
        _w = weights;
        _windows = windows ?? new int[config.Layers];
        _maxPositionEmbeddings = maxPositionEmbeddings > 0 ? maxPositionEmbeddings : config.ContextLength;
        _keys = [.. Enumerable.Range(0, config.Layers).Select(_ => new List<double[]>())];
        _values = [.. Enumerable.Range(0, config.Layers).Select(_ => new List<double[]>())];
    }

    /// <summary>The greedy continuation of <paramref name="prompt"/>: <paramref name="steps"/> argmax tokens.</summary>
    public static int[] Greedy(Func<ReferenceTransformer> create, IReadOnlyList<int> prompt, int steps)
    {
        ReferenceTransformer model = create();
        double[] logits = [];
        foreach (int token in prompt)
        {
            logits = model.Forward(token);
        }

        var tokens = new List<int>();
        while (tokens.Count < steps)
        {
            int next = 0;
            for (int i = 1; i < logits.Length; i++)
            {
                next = logits[i] > logits[next] ? i : next;
            }

            tokens.Add(next);
            logits = model.Forward(next);
        }

        return [.. tokens];
    }

    /// <summary>Logits after feeding <paramref name="token"/> at the next position.</summary>
    public double[] Forward(int token)
    {
        int dim = _c.Dim, hd = _c.HeadSize, heads = _c.Heads, kvHeads = _c.KvHeads, pos = _position++;
        int nRep = heads / kvHeads;
        bool gemma = _c.ModelType is "gemma2" or "gemma3_text";
        double normalizer = gemma ? _c.EmbeddingMultiplier : 1;
        double[] x = [.. _w.TokenEmbedding.AsSpan(token * dim, dim).ToArray().Select(v => v * normalizer)];
        double[] globalFreq = InverseFrequencies(pos + 1, out double globalScaling);
        double scaling = gemma ? Math.Pow(_c.QueryPreAttnScalar, -0.5) : 1.0 / Math.Sqrt(hd);
        double softcap = gemma ? _c.AttentionSoftcap : 0;

        for (int l = 0; l < _c.Layers; l++)
        {
            // Gemma3RotaryEmbedding for local layers: _compute_default_rope_parameters with base rope_local_base_freq.
            bool local = _localRope is { } lr && lr.Layers[l];
            double[] invFreq = local
                ? [.. Enumerable.Range(0, hd / 2).Select(i => 1.0 / Math.Pow(_localRope!.Theta, 2.0 * i / hd))]
                : globalFreq;
            double attentionScaling = local ? 1 : globalScaling;
            double[] h = RmsNorm(x, _w.AttentionNorm[l]);
            double[] q = Linear(h, _w.Wq[l], _w.Bq?[l], heads * hd);
            double[] k = Linear(h, _w.Wk[l], _w.Bk?[l], kvHeads * hd);
            double[] v = Linear(h, _w.Wv[l], _w.Bv?[l], kvHeads * hd);
            if (_w.QNorm is not null)
            {
                HeadRmsNorm(q, heads, _w.QNorm[l]);
                HeadRmsNorm(k, kvHeads, _w.KNorm![l]);
            }

            ApplyRotary(q, heads, pos, invFreq, attentionScaling);
            ApplyRotary(k, kvHeads, pos, invFreq, attentionScaling);
            _keys[l].Add(k);
            _values[l].Add(v);

            double[] attention = new double[heads * hd];
            int window = _windows[l];
            for (int head = 0; head < heads; head++)
            {
                int kvHead = head / nRep;
                var visible = Enumerable.Range(0, pos + 1).Where(t => window <= 0 || t > pos - window).ToArray();
                double[] scores = new double[visible.Length];
                for (int j = 0; j < visible.Length; j++)
                {
                    double[] key = _keys[l][visible[j]];
                    double dot = 0;
                    for (int i = 0; i < hd; i++)
                    {
                        dot += q[head * hd + i] * key[kvHead * hd + i];
                    }

                    scores[j] = softcap > 0 ? Math.Tanh(dot * scaling / softcap) * softcap : dot * scaling;
                }

                double max = scores.Max();
                double[] weights = [.. scores.Select(s => Math.Exp(s - max))];
                double sum = weights.Sum();
                for (int j = 0; j < visible.Length; j++)
                {
                    double[] value = _values[l][visible[j]];
                    for (int i = 0; i < hd; i++)
                    {
                        attention[head * hd + i] += weights[j] / sum * value[kvHead * hd + i];
                    }
                }
            }

            double[] o = Linear(attention, _w.Wo[l], _w.Bo?[l], dim);
            o = gemma ? RmsNorm(o, _w.PostAttentionNorm![l]) : o;
            for (int i = 0; i < dim; i++)
            {
                x[i] += o[i];
            }

            h = RmsNorm(x, _w.FfnNorm[l]);
            double[] gate = Linear(h, _w.W1[l], null, _c.HiddenDim);
            double[] up = Linear(h, _w.W3[l], null, _c.HiddenDim);
            double[] act = gemma
                ? [.. gate.Select((g, i) => 0.5 * g * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (g + 0.044715 * g * g * g))) * up[i])]
                : [.. gate.Select((g, i) => g / (1 + Math.Exp(-g)) * up[i])];
            double[] down = Linear(act, _w.W2[l], null, dim);
            down = gemma ? RmsNorm(down, _w.PostFfnNorm![l]) : down;
            for (int i = 0; i < dim; i++)
            {
                x[i] += down[i];
            }
        }

        double[] logits = Linear(RmsNorm(x, _w.FinalNorm), _w.Classifier, null, _c.VocabSize);
        double cap = gemma ? _c.FinalLogitSoftcap : 0;
        return cap > 0 ? [.. logits.Select(v => Math.Tanh(v / cap) * cap)] : logits;
    }

    /// <summary>
    /// modeling_rope_utils.py: <c>1 / base^(arange(0, dim, 2) / dim)</c>, then linear divides by the factor; dynamic grows
    /// the base once the sequence is longer than max_position_embeddings; llama3 divides the low frequencies by the factor,
    /// keeps the high ones and blends the medium ones.
    /// </summary>
    private double[] InverseFrequencies(int sequenceLength, out double attentionScaling)
    {
        // _compute_default_rope_parameters and the others: dim = int(head_dim * partial_rotary_factor).
        int dim = _c.RotaryDim > 0 ? _c.RotaryDim : _c.HeadSize;
        attentionScaling = 1;
        if (_longRope is { } lr)
        {
            // _compute_longrope_parameters: factor = max_position_embeddings / original_max_position_embeddings,
            // attention_factor = sqrt(1 + log(factor) / log(original)); long factors once seq_len > original.
            double factor = (double)lr.MaxPositionEmbeddings / lr.OriginalMaxPositionEmbeddings;
            attentionScaling = _attentionFactor > 0 ? _attentionFactor : factor <= 1 ? 1 : Math.Sqrt(1 + Math.Log(factor) / Math.Log(lr.OriginalMaxPositionEmbeddings));
            double[] ext = sequenceLength > lr.OriginalMaxPositionEmbeddings ? lr.LongFactor : lr.ShortFactor;
            return [.. Enumerable.Range(0, dim / 2).Select(i => 1.0 / (ext[i] * Math.Pow(_c.RopeTheta, 2.0 * i / dim)))];
        }

        double theta = _c.RopeTheta;
        RopeScaling? scaling = _c.RopeScaling;
        if (scaling is { Type: "dynamic" })
        {
            double seqLen = Math.Max(sequenceLength, _maxPositionEmbeddings);
            theta *= Math.Pow((scaling.Factor * seqLen / _maxPositionEmbeddings) - (scaling.Factor - 1), dim / (dim - 2.0));
        }

        double[] inv = [.. Enumerable.Range(0, dim / 2).Select(i => 1.0 / Math.Pow(theta, 2.0 * i / dim))];
        switch (scaling?.Type)
        {
            case "linear":
                return [.. inv.Select(f => f / scaling.Factor)];
            case "llama3":
                double oldContext = scaling.OriginalMaxPositionEmbeddings;
                double lowWavelen = oldContext / scaling.LowFreqFactor, highWavelen = oldContext / scaling.HighFreqFactor;
                return [.. inv.Select(f =>
                {
                    double wavelen = 2 * Math.PI / f;
                    double llama = wavelen > lowWavelen ? f / scaling.Factor : f;
                    double smooth = (oldContext / wavelen - scaling.LowFreqFactor) / (scaling.HighFreqFactor - scaling.LowFreqFactor);
                    double smoothed = (1 - smooth) * llama / scaling.Factor + smooth * llama;
                    bool medium = !(wavelen < highWavelen) && !(wavelen > lowWavelen);
                    return medium ? smoothed : llama;
                })];
            default:
                return inv;
        }
    }

    /// <summary>
    /// q_rot * cos + rotate_half(q_rot) * sin on q_rot = q[..., :rotary_dim], with cos/sin = cat(freqs, freqs) times the
    /// attention scaling: element i pairs with i + rotary_dim/2; q[..., rotary_dim:] passes through.
    /// </summary>
    private void ApplyRotary(double[] vector, int heads, int pos, double[] invFreq, double attentionScaling)
    {
        int hd = _c.HeadSize, half = invFreq.Length;
        for (int h = 0; h < heads; h++)
        {
            for (int i = 0; i < half; i++)
            {
                double cos = Math.Cos(pos * invFreq[i]) * attentionScaling, sin = Math.Sin(pos * invFreq[i]) * attentionScaling;
                int a = h * hd + i, b = a + half;
                double x1 = vector[a], x2 = vector[b];
                vector[a] = x1 * cos - x2 * sin;
                vector[b] = x2 * cos + x1 * sin;
            }
        }
    }

    private double[] RmsNorm(double[] x, float[] weight)
    {
        double variance = x.Sum(v => v * v) / x.Length;
        double scale = 1.0 / Math.Sqrt(variance + _c.NormEpsilon);
        // Gemma2RMSNorm and Gemma3RMSNorm: output * (1.0 + weight).
        double offset = _c.ModelType is "gemma2" or "gemma3_text" ? 1 : 0;
        return [.. x.Select((v, i) => (offset + weight[i]) * (v * scale))];
    }

    /// <summary>Qwen3RMSNorm over head_dim, for each head of <paramref name="vector"/> in place.</summary>
    private void HeadRmsNorm(double[] vector, int heads, float[] weight)
    {
        int hd = _c.HeadSize;
        for (int h = 0; h < heads; h++)
        {
            double[] normed = RmsNorm(vector[(h * hd)..((h + 1) * hd)], weight);
            Array.Copy(normed, 0, vector, h * hd, hd);
        }
    }

    /// <summary>nn.Linear: W [outFeatures, in] times x, plus the bias.</summary>
    private static double[] Linear(double[] x, float[] w, float[]? bias, int outFeatures)
    {
        int n = x.Length;
        double[] y = new double[outFeatures];
        for (int o = 0; o < outFeatures; o++)
        {
            double sum = bias?[o] ?? 0;
            for (int j = 0; j < n; j++)
            {
                sum += w[o * n + j] * x[j];
            }

            y[o] = sum;
        }

        return y;
    }
}

/// <summary>config.json's longrope <c>rope_scaling</c> and the lengths transformers derives its factor from.</summary>
internal sealed record LongRope(double[] ShortFactor, double[] LongFactor, int OriginalMaxPositionEmbeddings, int MaxPositionEmbeddings);

/// <summary>Gemma 3's local rotary embedding: its base, and per layer whether the layer is a sliding_attention one.</summary>
internal sealed record LocalRope(double Theta, bool[] Layers);
