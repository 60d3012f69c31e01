using Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace LlmAspire.Inference.Models;

/// <summary>
/// Builds a Llama decoder as an ONNX graph with a KV cache: past key/values in, present out, so a
/// decode step costs one token of work. Standard ONNX operators only (opset 17), so every execution
/// provider runs it. Input and output names follow ONNX Runtime GenAI's decoder conventions.
/// </summary>
public static class LlamaOnnxBuilder
{
    /// <summary>ONNX opset of the default domain the graph uses.</summary>
    public const int Opset = 17;

    /// <summary>Name of the token input, [batch, sequence].</summary>
    public const string InputIds = "input_ids";

    /// <summary>Name of the mask input, [batch, past + sequence]: 1 for real tokens, 0 for padding.</summary>
    public const string AttentionMask = "attention_mask";

    /// <summary>Name of the positions input, [batch, sequence].</summary>
    public const string PositionIds = "position_ids";

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

    /// <summary>Rotary tables for adjacent-pair RoPE, computed as llama2.c does (float32): [positions, headSize / 2].</summary>
    public static (float[] Cos, float[] Sin) RotaryTables(LlamaConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        int half = config.HeadSize / 2;
        float[] cos = new float[config.ContextLength * half];
        float[] sin = new float[config.ContextLength * half];
        for (int pos = 0; pos < config.ContextLength; pos++)
        {
            for (int i = 0; i < half; i++)
            {
                float freq = 1.0f / MathF.Pow(config.RopeTheta, 2 * i / (float)config.HeadSize);
                float angle = pos * freq;
                cos[pos * half + i] = MathF.Cos(angle);
                sin[pos * half + i] = MathF.Sin(angle);
            }
        }

        return (cos, sin);
    }

    /// <summary>Builds the ONNX model.</summary>
    public static ModelProto Build(LlamaConfig config, LlamaWeights weights)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(weights);
        weights.Validate(config);

        var g = new OnnxGraphBuilder("llama");
        int dim = config.Dim, heads = config.Heads, kvHeads = config.KvHeads, headSize = config.HeadSize;
        int kvDim = kvHeads * headSize, groups = heads / kvHeads;

        g.Input(InputIds, DataType.Int64, "batch_size", "sequence_length");
        g.Input(AttentionMask, DataType.Int64, "batch_size", "total_sequence_length");
        g.Input(PositionIds, DataType.Int64, "batch_size", "sequence_length");
        for (int l = 0; l < config.Layers; l++)
        {
            g.Input(PastKey(l), DataType.Float, "batch_size", kvHeads, "past_sequence_length", headSize);
            g.Input(PastValue(l), DataType.Float, "batch_size", kvHeads, "past_sequence_length", headSize);
        }

        g.Output(Logits, DataType.Float, "batch_size", "sequence_length", config.VocabSize);
        for (int l = 0; l < config.Layers; l++)
        {
            g.Output(PresentKey(l), DataType.Float, "batch_size", kvHeads, "total_sequence_length", headSize);
            g.Output(PresentValue(l), DataType.Float, "batch_size", kvHeads, "total_sequence_length", headSize);
        }

        // Embedding.
        string embedding = g.Initializer("model.embed_tokens.weight", weights.TokenEmbedding, config.VocabSize, dim);
        string x = g.Node("Gather", [embedding, InputIds], "embeddings", ("axis", 0));

        // Rotary tables gathered once per step: [B, S, 1, half, 1].
        (float[] cosTable, float[] sinTable) = RotaryTables(config);
        string cos = g.Initializer("rotary.cos", cosTable, config.ContextLength, headSize / 2);
        string sin = g.Initializer("rotary.sin", sinTable, config.ContextLength, headSize / 2);
        string ropeAxes = g.Ints("rope_axes", 2, 4);
        string cos5 = g.Node("Unsqueeze", [g.Node("Gather", [cos, PositionIds], "cos", ("axis", 0)), ropeAxes], "cos5");
        string sin5 = g.Node("Unsqueeze", [g.Node("Gather", [sin, PositionIds], "sin", ("axis", 0)), ropeAxes], "sin5");

        string bias = AttentionBias(g);
        string scale = g.Scalar("attn_scale", 1.0f / MathF.Sqrt(headSize));
        string eps = g.Scalar("rms_eps", config.NormEpsilon);

        string qShape = g.Ints("q_pairs_shape", 0, 0, heads, headSize / 2, 2);
        string kShape = g.Ints("k_pairs_shape", 0, 0, kvHeads, headSize / 2, 2);
        string qHeadsShape = g.Ints("q_heads_shape", 0, 0, heads, headSize);
        string kHeadsShape = g.Ints("kv_heads_shape", 0, 0, kvHeads, headSize);
        string groupedShape = g.Ints("grouped_shape", 0, kvHeads, groups, -1, headSize);
        string ungroupedShape = g.Ints("ungrouped_shape", 0, heads, -1, headSize);
        string mergedShape = g.Ints("merged_shape", 0, 0, dim);
        string axis2 = g.Ints("axis2", 2);
        long[] toHeads = [0, 2, 1, 3];

        for (int l = 0; l < config.Layers; l++)
        {
            string p = $"model.layers.{l}";
            string h = RmsNorm(g, x, g.Initializer($"{p}.input_layernorm.weight", weights.AttentionNorm[l], dim), eps);
            string q = MatMul(g, h, $"{p}.attn.q_proj", weights.Wq[l], dim, dim);
            string k = MatMul(g, h, $"{p}.attn.k_proj", weights.Wk[l], kvDim, dim);
            string v = MatMul(g, h, $"{p}.attn.v_proj", weights.Wv[l], kvDim, dim);

            string qRot = g.Node("Transpose", [Rope(g, q, qShape, qHeadsShape, cos5, sin5)], "q_rot", ("perm", toHeads));
            string kRot = g.Node("Transpose", [Rope(g, k, kShape, kHeadsShape, cos5, sin5)], "k_rot", ("perm", toHeads));
            string vHeads = g.Node("Transpose", [g.Node("Reshape", [v, kHeadsShape], "v_heads")], "v_t", ("perm", toHeads));

            string presentK = g.NodeMulti("Concat", [PastKey(l), kRot], [PresentKey(l)], ("axis", 2))[0];
            string presentV = g.NodeMulti("Concat", [PastValue(l), vHeads], [PresentValue(l)], ("axis", 2))[0];

            // Grouped-query attention: query head h reads KV head h / groups.
            string qGrouped = g.Node("Reshape", [qRot, groupedShape], "q_grouped");
            string kT = g.Node("Unsqueeze", [g.Node("Transpose", [presentK], "k_t", ("perm", new long[] { 0, 1, 3, 2 })), axis2], "k_t5");
            string scores = g.Node("Add", [g.Node("Mul", [g.Node("MatMul", [qGrouped, kT], "qk"), scale], "qk_scaled"), bias], "scores");
            string probs = g.Node("Softmax", [scores], "probs", ("axis", -1));
            string context = g.Node("MatMul", [probs, g.Node("Unsqueeze", [presentV, axis2], "v5")], "context");
            string contextHeads = g.Node("Transpose", [g.Node("Reshape", [context, ungroupedShape], "context_heads")], "context_t", ("perm", toHeads));
            string attention = MatMul(g, g.Node("Reshape", [contextHeads, mergedShape], "context_merged"), $"{p}.attn.o_proj", weights.Wo[l], dim, dim);
            x = g.Node("Add", [x, attention], "residual_attn");

            string h2 = RmsNorm(g, x, g.Initializer($"{p}.post_attention_layernorm.weight", weights.FfnNorm[l], dim), eps);
            string gate = MatMul(g, h2, $"{p}.mlp.gate_proj", weights.W1[l], config.HiddenDim, dim);
            string up = MatMul(g, h2, $"{p}.mlp.up_proj", weights.W3[l], config.HiddenDim, dim);
            string silu = g.Node("Mul", [gate, g.Node("Sigmoid", [gate], "gate_sigmoid")], "gate_silu");
            string down = MatMul(g, g.Node("Mul", [silu, up], "mlp_act"), $"{p}.mlp.down_proj", weights.W2[l], dim, config.HiddenDim);
            x = g.Node("Add", [x, down], "residual_mlp");
        }

        string final = RmsNorm(g, x, g.Initializer("model.norm.weight", weights.FinalNorm, dim), eps);
        string classifier = g.Initializer("lm_head.weight_t", Transpose(weights.Classifier, config.VocabSize, dim), dim, config.VocabSize);
        g.NodeMulti("MatMul", [final, classifier], [Logits]);

        var model = new ModelProto
        {
            IrVersion = 8,
            ProducerName = "LlmAspire",
            ProducerVersion = typeof(LlamaOnnxBuilder).Assembly.GetName().Version?.ToString() ?? "0",
            Graph = g.Graph,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = string.Empty, Version = Opset });
        return model;
    }

    /// <summary>Additive attention bias [B, 1, 1, S, T]: 0 where a query may attend, -1e9 elsewhere (future or padding).</summary>
    private static string AttentionBias(OnnxGraphBuilder g)
    {
        string one = g.ScalarInt("one", 1);
        string zero = g.ScalarInt("zero", 0);
        string seqLen = g.Node("Gather", [g.Node("Shape", [InputIds], "ids_shape"), one], "seq_len", ("axis", 0));
        string totalLen = g.Node("Gather", [g.Node("Shape", [AttentionMask], "mask_shape"), one], "total_len", ("axis", 0));
        string pastLen = g.Node("Sub", [totalLen, seqLen], "past_len");
        string queryPos = g.Node("Range", [pastLen, totalLen, one], "query_index");
        string keyPos = g.Node("Range", [zero, totalLen, one], "key_index");
        string causal = g.Node(
            "LessOrEqual",
            [g.Node("Unsqueeze", [keyPos, g.Ints("axis0", 0)], "key_row"), g.Node("Unsqueeze", [queryPos, g.Ints("axis1", 1)], "query_col")],
            "causal");
        string valid = g.Node("Unsqueeze", [g.Node("Cast", [AttentionMask], "mask_bool", ("to", (int)DataType.Bool)), g.Ints("axis1", 1)], "mask_rows");
        string allowed = g.Node("And", [causal, valid], "allowed");
        string bias = g.Node("Where", [allowed, g.Scalar("zero_f", 0f), g.Scalar("neg_inf_f", -1e9f)], "bias");
        return g.Node("Unsqueeze", [bias, g.Ints("bias_axes", 1, 2)], "bias5");
    }

    private static string RmsNorm(OnnxGraphBuilder g, string x, string weight, string eps)
    {
        string meanSquare = g.Node("ReduceMean", [g.Node("Mul", [x, x], "square")], "mean_square", ("axes", new long[] { -1 }), ("keepdims", 1));
        string inverse = g.Node("Reciprocal", [g.Node("Sqrt", [g.Node("Add", [meanSquare, eps], "var_eps")], "rms")], "inv_rms");
        return g.Node("Mul", [g.Node("Mul", [x, inverse], "normed"), weight], "rms_norm");
    }

    /// <summary>Adjacent-pair rotary embedding on [B, S, heads * headSize]; returns [B, S, heads, headSize].</summary>
    private static string Rope(OnnxGraphBuilder g, string x, string pairsShape, string headsShape, string cos, string sin)
    {
        string pairs = g.Node("Reshape", [x, pairsShape], "pairs");
        string[] parts = g.NodeMulti("Split", [pairs], [g.Unique("pair_even"), g.Unique("pair_odd")], ("axis", 4));
        string even = parts[0], odd = parts[1];
        string rotatedEven = g.Node("Sub", [g.Node("Mul", [even, cos], "ec"), g.Node("Mul", [odd, sin], "os")], "rot_even");
        string rotatedOdd = g.Node("Add", [g.Node("Mul", [even, sin], "es"), g.Node("Mul", [odd, cos], "oc")], "rot_odd");
        string joined = g.Node("Concat", [rotatedEven, rotatedOdd], "rot_pairs", ("axis", 4));
        return g.Node("Reshape", [joined, headsShape], "rot_heads");
    }

    private static string MatMul(OnnxGraphBuilder g, string x, string name, float[] weight, int rows, int cols) =>
        g.Node("MatMul", [x, g.Initializer(name + ".weight_t", Transpose(weight, rows, cols), cols, rows)], name);

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
