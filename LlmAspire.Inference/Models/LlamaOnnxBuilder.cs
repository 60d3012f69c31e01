using Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace LlmAspire.Inference.Models;

/// <summary>
/// Builds a Llama decoder as an ONNX graph with a KV cache: past key/values in, present out, so a
/// decode step costs one token of work. The production shape ONNX Runtime GenAI's model builder writes:
/// <c>GroupQueryAttention</c> with the rotary embedding inside (<c>rotary_interleaved</c> for llama2.c's
/// adjacent pairs), RMSNorm as <c>SimplifiedLayerNormalization</c> / <c>SkipSimplifiedLayerNormalization</c>;
/// every operator runs on both the CPU and the CUDA provider. Input and output names are GenAI's.
/// One builder for the whole family, driven by <see cref="LlamaConfig"/>: scaled RoPE is a different cos/sin cache,
/// a sliding window is the layer's <c>local_window_size</c>, q/k/v/o biases are Adds after the MatMuls, Qwen3's
/// q_norm/k_norm are per-head <c>SimplifiedLayerNormalization</c>s before attention (which rotates after them), Gemma 3's
/// local layers take a second cos/sin cache.
/// </summary>
public static class LlamaOnnxBuilder
{
    /// <summary>ONNX opset of the default domain the graph uses.</summary>
    public const int Opset = 17;

    /// <summary>Name of the token input, [batch, sequence].</summary>
    public const string InputIds = "input_ids";

    /// <summary>Name of the mask input, [batch, past + sequence]: 1 for real tokens, 0 for padding.</summary>
    public const string AttentionMask = "attention_mask";

    /// <summary>Name of the optional positions input, [batch, sequence] (graphs with GroupQueryAttention derive positions from the mask).</summary>
    public const string PositionIds = "position_ids";

    /// <summary>Domain of ONNX Runtime's contrib operators.</summary>
    public const string MicrosoftDomain = "com.microsoft";

    /// <summary>Name of the logits output, [batch, sequence, vocab].</summary>
    public const string Logits = "logits";

    /// <summary>Past key input of layer <paramref name="layer"/>, [batch, kv_heads, past, head_size].</summary>
    public static string PastKey(int layer) => $"past_key_values.{layer}.key";

    /// <summary>Past value input of layer <paramref name="layer"/>.</summary>
    public static string PastValue(int layer) => $"past_key_values.{layer}.value";

    /// <summary>Present key output of layer <paramref name="layer"/>, [batch, kv_heads, past + sequence, head_size].</summary>
    public static string PresentKey(int layer) => $"present.{layer}.key";

    /// <summary>Present value output of layer <paramref name="layer"/>.</summary>
    public static string PresentValue(int layer) => $"present.{layer}.value";

    /// <summary>
    /// Rotary tables for adjacent-pair RoPE: [positions, attentionHeadSize / 2]. Plain RoPE is computed as llama2.c does
    /// (float32); scaled RoPE from <see cref="RopeScaling.InverseFrequencies"/> in double precision, rounded once.
    /// Columns past rotaryDim / 2 belong to the head's unrotated tail (partial rotary) or to zero padding and rotate by
    /// nothing (cos 1, sin 0), so GroupQueryAttention's whole-head rotation leaves them as they are; longrope's attention
    /// factor multiplies the rotated columns only, as transformers multiplies cos and sin.
    /// </summary>
    public static (float[] Cos, float[] Sin) RotaryTables(LlamaConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        int half = config.AttentionHeadSize / 2;
        int real = config.RotarySize / 2;
        double[]? scaled = config.RopeScaling is null && config.RotaryDim == 0
            ? null
            : RopeScaling.InverseFrequencies(config.RopeTheta, config.RotarySize, config.RopeScaling);
        double scale = config.RopeScaling?.CosSinScale ?? 1;
        float[] cos = new float[config.ContextLength * half];
        float[] sin = new float[config.ContextLength * half];
        for (int pos = 0; pos < config.ContextLength; pos++)
        {
            for (int i = real; i < half; i++)
            {
                cos[pos * half + i] = 1f;
            }

            for (int i = 0; i < real; i++)
            {
                if (scaled is not null)
                {
                    double angle = pos * scaled[i];
                    cos[pos * half + i] = (float)(Math.Cos(angle) * scale);
                    sin[pos * half + i] = (float)(Math.Sin(angle) * scale);
                }
                else
                {
                    float freq = 1.0f / MathF.Pow(config.RopeTheta, 2 * i / (float)config.HeadSize);
                    float angle = pos * freq;
                    cos[pos * half + i] = MathF.Cos(angle);
                    sin[pos * half + i] = MathF.Sin(angle);
                }
            }
        }

        return (cos, sin);
    }

    /// <summary>
    /// Builds the ONNX model. With <paramref name="fuseProjections"/> (the default) each layer reads its weights in two
    /// MatMuls where it would take five: one over q, k and v's rows together, whose output GroupQueryAttention takes as
    /// packed QKV (or which a Split divides when Qwen3's or Gemma 3's q/k norms come between), and one over gate and up
    /// divided by a Split, as ONNX Runtime GenAI's model builder packs them. A decode step then streams the same bytes
    /// in fewer, longer kernels. Every output column is the same dot product either way, so the logits are too;
    /// <c>false</c> writes the separate projections, to measure the difference.
    /// </summary>
    public static ModelProto Build(LlamaConfig config, LlamaWeights weights, bool fuseProjections = true)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(weights);
        weights.Validate(config);

        var g = new OnnxGraphBuilder("llama");
        int dim = config.Dim, kvHeads = config.KvHeads, headSize = config.HeadSize, padded = config.AttentionHeadSize;
        int qDim = config.Heads * padded, kvDim = kvHeads * padded;

        g.Input(InputIds, DataType.Int64, "batch_size", "sequence_length");
        g.Input(AttentionMask, DataType.Int64, "batch_size", "total_sequence_length");
        for (int l = 0; l < config.Layers; l++)
        {
            g.Input(PastKey(l), DataType.Float, "batch_size", kvHeads, "past_sequence_length", padded);
            g.Input(PastValue(l), DataType.Float, "batch_size", kvHeads, "past_sequence_length", padded);
        }

        g.Output(Logits, DataType.Float, "batch_size", "sequence_length", config.VocabSize);
        for (int l = 0; l < config.Layers; l++)
        {
            g.Output(PresentKey(l), DataType.Float, "batch_size", kvHeads, "total_sequence_length", padded);
            g.Output(PresentValue(l), DataType.Float, "batch_size", kvHeads, "total_sequence_length", padded);
        }

        // GroupQueryAttention reads each row's length from seqlens_k (valid tokens - 1) and the longest from total_sequence_length.
        string seqlensK = g.Node(
            "Cast",
            [g.Node("Sub", [g.Node("ReduceSum", [AttentionMask, g.Ints("sum_axes", 1)], "mask_sum", ("keepdims", 0)), g.ScalarInt("one", 1)], "seqlens_k_64")],
            "seqlens_k",
            ("to", (int)DataType.Int32));
        string totalLength = g.Node(
            "Cast",
            [g.Node("Gather", [g.Node("Shape", [AttentionMask], "mask_shape"), g.ScalarInt("one", 1)], "total_len_64", ("axis", 0))],
            "total_sequence_length",
            ("to", (int)DataType.Int32));

        (float[] cosTable, float[] sinTable) = RotaryTables(config);
        string cos = g.Initializer("cos_cache", cosTable, config.ContextLength, padded / 2);
        string sin = g.Initializer("sin_cache", sinTable, config.ContextLength, padded / 2);

        // Gemma 3: the local layers rotate with their own unscaled base, each GroupQueryAttention taking its layer's cache.
        (string Cos, string Sin)? localRope = null;
        if (Enumerable.Range(0, config.Layers).Any(config.UsesLocalRope))
        {
            (float[] localCos, float[] localSin) = RotaryTables(config with { RopeTheta = config.LocalRopeTheta, RopeScaling = null });
            localRope = (g.Initializer("cos_cache_local", localCos, config.ContextLength, padded / 2), g.Initializer("sin_cache_local", localSin, config.ContextLength, padded / 2));
        }

        string embedding = g.Initializer("model.embed_tokens.weight", weights.TokenEmbedding, config.VocabSize, dim);
        string residual = g.Node("Gather", [embedding, InputIds], "embeddings", ("axis", 0));
        if (config.EmbeddingMultiplier != 0)
        {
            residual = g.Node("Mul", [residual, g.Scalar("embedding_multiplier", config.EmbeddingMultiplier)], "embeddings_scaled");
        }
        string hidden = g.NodeMulti(
            "SimplifiedLayerNormalization",
            [residual, g.Initializer("model.layers.0.input_layernorm.weight", weights.AttentionNorm[0], dim)],
            [g.Unique("input_norm")],
            ("axis", -1L),
            ("epsilon", config.NormEpsilon))[0];

        for (int l = 0; l < config.Layers; l++)
        {
            string p = $"model.layers.{l}";
            (string q, string k, string v) = fuseProjections
                ? FusedQkv(g, hidden, p, config, weights, l)
                : SeparateQkv(g, hidden, p, config, weights, l);

            // Both count the query's own position: Hugging Face's sliding_window (a key is seen when kv > q - window) and
            // ONNX Runtime's local_window_size (1.31's kernels; older ones saw one key more).
            int window = config.WindowOf(l);
            (string layerCos, string layerSin) = config.UsesLocalRope(l) ? localRope!.Value : (cos, sin);
            string attention = g.DomainNode(
                MicrosoftDomain,
                "GroupQueryAttention",
                [q, k, v, PastKey(l), PastValue(l), seqlensK, totalLength, layerCos, layerSin],
                [g.Unique($"{p}.attn.output"), PresentKey(l), PresentValue(l)],
                ("num_heads", (long)config.Heads),
                ("kv_num_heads", (long)kvHeads),
                ("scale", 1.0f / MathF.Sqrt(config.QueryPreAttnScalar > 0 ? config.QueryPreAttnScalar : headSize)),
                ("softcap", config.AttentionSoftcap),
                ("do_rotary", 1L),
                ("rotary_interleaved", 1L),
                ("local_window_size", window > 0 ? window : -1L))[0];
            string projected = MatMul(g, attention, $"{p}.attn.o_proj", PadHeadColumns(weights.Wo[l], dim, config.Heads, headSize, padded), dim, qDim);
            if (weights.Bo is not null)
            {
                projected = g.Node("Add", [projected, g.Initializer($"{p}.attn.o_proj.bias", weights.Bo[l], dim)], $"{p}.attn.o_proj_biased");
            }

            if (config.SandwichNorms)
            {
                projected = Norm(g, projected, $"{p}.post_attention_layernorm.weight", weights.PostAttentionNorm![l], config.NormEpsilon);
            }

            // RMSNorm fused with the residual add: output 0 is the normalized sum, output 3 the sum itself.
            string[] postAttention = g.DomainNode(
                MicrosoftDomain,
                "SkipSimplifiedLayerNormalization",
                [projected, residual, g.Initializer(config.SandwichNorms ? $"{p}.pre_feedforward_layernorm.weight" : $"{p}.post_attention_layernorm.weight", weights.FfnNorm[l], dim)],
                [g.Unique("post_attn_norm"), string.Empty, string.Empty, g.Unique("residual_attn")],
                ("epsilon", config.NormEpsilon));
            hidden = postAttention[0];
            residual = postAttention[3];

            (string gate, string up) = fuseProjections
                ? FusedGateUp(g, hidden, $"{p}.mlp.gate_up_proj", weights.W1[l], weights.W3[l], config.HiddenDim, dim)
                : (MatMul(g, hidden, $"{p}.mlp.gate_proj", weights.W1[l], config.HiddenDim, dim), MatMul(g, hidden, $"{p}.mlp.up_proj", weights.W3[l], config.HiddenDim, dim));
            // SwiGLU, or Gemma's GeGLU with the tanh approximation, which is FastGelu's formula.
            string activated = config.HiddenAct == "gelu_pytorch_tanh"
                ? g.DomainNode(MicrosoftDomain, "FastGelu", [gate], [g.Unique("gate_gelu")])[0]
                : g.Node("Mul", [gate, g.Node("Sigmoid", [gate], "gate_sigmoid")], "gate_silu");
            string down = MatMul(g, g.Node("Mul", [activated, up], "mlp_act"), $"{p}.mlp.down_proj", weights.W2[l], dim, config.HiddenDim);
            if (config.SandwichNorms)
            {
                down = Norm(g, down, $"{p}.post_feedforward_layernorm.weight", weights.PostFfnNorm![l], config.NormEpsilon);
            }

            bool last = l == config.Layers - 1;
            string[] next = g.DomainNode(
                MicrosoftDomain,
                "SkipSimplifiedLayerNormalization",
                [down, residual, last
                    ? g.Initializer("model.norm.weight", weights.FinalNorm, dim)
                    : g.Initializer($"model.layers.{l + 1}.input_layernorm.weight", weights.AttentionNorm[l + 1], dim)],
                [g.Unique(last ? "final_norm" : "input_norm"), string.Empty, string.Empty, g.Unique("residual_mlp")],
                ("epsilon", config.NormEpsilon));
            hidden = next[0];
            residual = next[3];
        }

        string classifier = g.Initializer("lm_head.weight_t", Transpose(weights.Classifier, config.VocabSize, dim), dim, config.VocabSize);
        if (config.FinalLogitSoftcap > 0)
        {
            // Gemma 2: logits = tanh(logits / cap) * cap.
            string raw = g.Node("MatMul", [hidden, classifier], "logits_raw");
            string capped = g.Node("Tanh", [g.Node("Div", [raw, g.Scalar("final_softcap", config.FinalLogitSoftcap)], "logits_over_cap")], "logits_tanh");
            g.NodeMulti("Mul", [capped, g.Scalar("final_softcap", config.FinalLogitSoftcap)], [Logits]);
        }
        else
        {
            g.NodeMulti("MatMul", [hidden, classifier], [Logits]);
        }

        var model = new ModelProto
        {
            IrVersion = 8,
            ProducerName = "LlmAspire",
            ProducerVersion = typeof(LlamaOnnxBuilder).Assembly.GetName().Version?.ToString() ?? "0",
            Graph = g.Graph,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = string.Empty, Version = Opset });
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = MicrosoftDomain, Version = 1 });
        return model;
    }

    private static string MatMul(OnnxGraphBuilder g, string x, string name, float[] weight, int rows, int cols) =>
        g.Node("MatMul", [x, g.Initializer(name + ".weight_t", Transpose(weight, rows, cols), cols, rows)], name);

    /// <summary>
    /// Layer <paramref name="l"/>'s q, k and v from one MatMul over their padded rows stacked (q, then k, then v) and one Add
    /// of their biases stacked likewise. Without q/k norms the packed output goes to GroupQueryAttention as is (its query
    /// input, key and value left empty: the kernel reads them from the packed heads); with them a Split hands q and k to
    /// their norms first.
    /// </summary>
    private static (string Q, string K, string V) FusedQkv(OnnxGraphBuilder g, string x, string p, LlamaConfig config, LlamaWeights weights, int l)
    {
        int dim = config.Dim, heads = config.Heads, kvHeads = config.KvHeads, headSize = config.HeadSize, padded = config.AttentionHeadSize;
        int qDim = heads * padded, kvDim = kvHeads * padded;
        float[] stacked =
        [
            .. PadHeadRows(weights.Wq[l], heads, headSize, padded, dim),
            .. PadHeadRows(weights.Wk[l], kvHeads, headSize, padded, dim),
            .. PadHeadRows(weights.Wv[l], kvHeads, headSize, padded, dim),
        ];
        string name = $"{p}.attn.qkv_proj";
        string qkv = MatMul(g, x, name, stacked, qDim + 2 * kvDim, dim);
        if (weights.Bq is not null || weights.Bk is not null || weights.Bv is not null)
        {
            // A projection without a bias adds zeros, which leaves every value as it is.
            float[] bias =
            [
                .. PadHeadRows(weights.Bq?[l] ?? new float[heads * headSize], heads, headSize, padded, 1),
                .. PadHeadRows(weights.Bk?[l] ?? new float[kvHeads * headSize], kvHeads, headSize, padded, 1),
                .. PadHeadRows(weights.Bv?[l] ?? new float[kvHeads * headSize], kvHeads, headSize, padded, 1),
            ];
            qkv = g.Node("Add", [qkv, g.Initializer(name + ".bias", bias, bias.Length)], name + "_biased");
        }

        if (!config.QkNorm)
        {
            return (qkv, string.Empty, string.Empty);
        }

        string[] parts = g.NodeMulti(
            "Split",
            [qkv, g.Ints(name + "_split", qDim, kvDim, kvDim)],
            [g.Unique($"{p}.attn.q"), g.Unique($"{p}.attn.k"), g.Unique($"{p}.attn.v")],
            ("axis", -1L));
        return (
            HeadNorm(g, parts[0], $"{p}.attn.q_norm", weights.QNorm![l], heads, headSize, padded, config.NormEpsilon),
            HeadNorm(g, parts[1], $"{p}.attn.k_norm", weights.KNorm![l], kvHeads, headSize, padded, config.NormEpsilon),
            parts[2]);
    }

    /// <summary>Layer <paramref name="l"/>'s q, k and v as three MatMuls, each with its bias and q and k with their norms.</summary>
    private static (string Q, string K, string V) SeparateQkv(OnnxGraphBuilder g, string x, string p, LlamaConfig config, LlamaWeights weights, int l)
    {
        int dim = config.Dim, kvHeads = config.KvHeads, headSize = config.HeadSize, padded = config.AttentionHeadSize;
        string q = Projection(g, x, $"{p}.attn.q_proj", PadHeadRows(weights.Wq[l], config.Heads, headSize, padded, dim), weights.Bq?[l], config.Heads, headSize, padded, dim);
        string k = Projection(g, x, $"{p}.attn.k_proj", PadHeadRows(weights.Wk[l], kvHeads, headSize, padded, dim), weights.Bk?[l], kvHeads, headSize, padded, dim);
        string v = Projection(g, x, $"{p}.attn.v_proj", PadHeadRows(weights.Wv[l], kvHeads, headSize, padded, dim), weights.Bv?[l], kvHeads, headSize, padded, dim);
        if (config.QkNorm)
        {
            q = HeadNorm(g, q, $"{p}.attn.q_norm", weights.QNorm![l], config.Heads, headSize, padded, config.NormEpsilon);
            k = HeadNorm(g, k, $"{p}.attn.k_norm", weights.KNorm![l], kvHeads, headSize, padded, config.NormEpsilon);
        }

        return (q, k, v);
    }

    /// <summary>Gate and up from one MatMul over their rows stacked (gate, then up), divided by a Split.</summary>
    private static (string Gate, string Up) FusedGateUp(OnnxGraphBuilder g, string x, string name, float[] gate, float[] up, int hidden, int dim)
    {
        string both = MatMul(g, x, name, [.. gate, .. up], 2 * hidden, dim);
        string[] parts = g.NodeMulti("Split", [both, g.Ints(name + "_split", hidden, hidden)], [g.Unique(name + "_gate"), g.Unique(name + "_up")], ("axis", -1L));
        return (parts[0], parts[1]);
    }

    /// <summary>
    /// A q, k or v projection of <paramref name="heads"/> padded heads: MatMul, then an Add of the bias when there is one
    /// (a separate node, so the quantizer's MatMul → MatMulNBits rewrite leaves it alone).
    /// </summary>
    private static string Projection(OnnxGraphBuilder g, string x, string name, float[] paddedWeight, float[]? bias, int heads, int headSize, int padded, int dim)
    {
        string y = MatMul(g, x, name, paddedWeight, heads * padded, dim);
        return bias is null
            ? y
            : g.Node("Add", [y, g.Initializer(name + ".bias", PadHeadRows(bias, heads, headSize, padded, 1), heads * padded)], name + "_biased");
    }

    /// <summary>
    /// Qwen3's per-head RMSNorm over [batch, sequence, heads * padded]: reshaped to one row per head, normalized, reshaped
    /// back. Zero padding adds nothing to the sum of squares but counts in the mean, so the epsilon and the weight are
    /// scaled by headSize / padded and its square root: x / sqrt(s/P + eps·R/P) · w·sqrt(R/P) = x / sqrt(s/R + eps) · w.
    /// </summary>
    private static string HeadNorm(OnnxGraphBuilder g, string x, string name, float[] weight, int heads, int headSize, int padded, float epsilon)
    {
        float ratio = headSize / (float)padded;
        float[] scaled = PadHeadRows([.. weight.Select(w => w * MathF.Sqrt(ratio))], 1, headSize, padded, 1);
        string perHead = g.Node("Reshape", [x, g.Ints(name + "_heads_shape", 0, 0, heads, padded)], name + "_heads");
        string normed = g.NodeMulti(
            "SimplifiedLayerNormalization",
            [perHead, g.Initializer(name + ".weight", padded == headSize ? weight : scaled, padded)],
            [g.Unique(name + "_normed")],
            ("axis", -1L),
            ("epsilon", epsilon * ratio))[0];
        return g.Node("Reshape", [normed, g.Ints(name + "_flat_shape", 0, 0, heads * padded)], name + "_out");
    }

    /// <summary>[heads * headSize, cols] to [heads * padded, cols], each head's rows followed by zero rows.</summary>
    private static float[] PadHeadRows(float[] matrix, int heads, int headSize, int padded, int cols)
    {
        if (padded == headSize)
        {
            return matrix;
        }

        float[] result = new float[heads * padded * cols];
        for (int h = 0; h < heads; h++)
        {
            Array.Copy(matrix, h * headSize * cols, result, h * padded * cols, headSize * cols);
        }

        return result;
    }

    /// <summary>[rows, heads * headSize] to [rows, heads * padded], each head's columns followed by zero columns.</summary>
    private static float[] PadHeadColumns(float[] matrix, int rows, int heads, int headSize, int padded)
    {
        if (padded == headSize)
        {
            return matrix;
        }

        float[] result = new float[rows * heads * padded];
        for (int r = 0; r < rows; r++)
        {
            for (int h = 0; h < heads; h++)
            {
                Array.Copy(matrix, r * heads * headSize + h * headSize, result, r * heads * padded + h * padded, headSize);
            }
        }

        return result;
    }

    /// <summary>RMSNorm of <paramref name="input"/> with its own weight (Gemma 2's post-attention and post-feed-forward norms).</summary>
    private static string Norm(OnnxGraphBuilder g, string input, string name, float[] weight, float epsilon) =>
        g.NodeMulti(
            "SimplifiedLayerNormalization",
            [input, g.Initializer(name, weight, weight.Length)],
            [g.Unique(name.Replace(".weight", string.Empty, StringComparison.Ordinal))],
            ("axis", -1L),
            ("epsilon", epsilon))[0];

    /// <summary>Row-major [rows, cols] to [cols, rows].</summary>
    internal static float[] Transpose(float[] matrix, int rows, int cols)
    {
        float[] result = new float[matrix.Length];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < cols; c++)
            {
                result[c * rows + r] = matrix[r * cols + c];
            }
        }

        return result;
    }
}
