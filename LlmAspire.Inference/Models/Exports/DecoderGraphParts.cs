using Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace LlmAspire.Inference.Models.Exports;

/// <summary>
/// Pieces both per-sequence exports share: the plain-Llama check, the KV cache inputs and outputs in GenAI's and
/// Optimum's names, the additive attention bias from <c>attention_mask</c> (causal and padding), key/value head repetition,
/// projections and the SwiGLU feed-forward.
/// </summary>
internal static class DecoderGraphParts
{
    /// <summary>float32's lowest value: what a masked score gets (its exponential underflows to exactly 0).</summary>
    private const float Masked = float.MinValue;

    /// <summary>Refuses what these exports do not write, with one line naming it: they are plain Llama (llama2.c's shape).</summary>
    public static void RequirePlainLlama(LlamaConfig config, string export)
    {
        ArgumentNullException.ThrowIfNull(config);
        string? unsupported =
            config.QkvBias || config.OutputBias ? "attention biases"
            : config.QkNorm ? "per-head q/k norms"
            : config.SandwichNorms ? "sandwich norms"
            : config.SlidingWindow > 0 ? "a sliding window"
            : config.AttentionSoftcap != 0 || config.FinalLogitSoftcap != 0 ? "soft-capping"
            : config.EmbeddingMultiplier != 0 ? "an embedding multiplier"
            : config.HiddenAct != "silu" ? $"hidden_act {config.HiddenAct}"
            : config.RopeScaling is not null ? $"rope scaling {config.RopeScaling.Type}"
            : config.RotaryDim > 0 ? "partial rotary"
            : config.QueryPreAttnScalar != 0 ? "query_pre_attn_scalar"
            : null;
        if (unsupported is not null)
        {
            throw new NotSupportedException($"The {export} export writes plain Llama decoders; this model has {unsupported}.");
        }
    }

    /// <summary>
    /// Starts a per-sequence decoder graph named <paramref name="name"/>: checks the model is plain Llama, declares the IO
    /// (<paramref name="cacheHeads"/> heads in the cache), builds the attention bias and looks up the embeddings.
    /// </summary>
    public static (OnnxGraphBuilder Graph, string Bias, string Embeddings) Begin(string name, string export, LlamaConfig config, LlamaWeights weights, int cacheHeads)
    {
        ArgumentNullException.ThrowIfNull(weights);
        RequirePlainLlama(config, export);
        weights.Validate(config);
        var g = new OnnxGraphBuilder(name);
        DeclareIo(g, config, cacheHeads);
        string bias = AttentionBias(g);
        string embeddings = g.Node(
            "Gather", [g.Initializer("model.embed_tokens.weight", weights.TokenEmbedding, config.VocabSize, config.Dim), LlamaOnnxBuilder.InputIds], "embeddings", ("axis", 0L));
        return (g, bias, embeddings);
    }

    /// <summary>Ends the graph: lm_head over the final normalized hidden state into <c>logits</c>, and the model around it.</summary>
    public static ModelProto Finish(OnnxGraphBuilder g, string normalized, LlamaConfig config, LlamaWeights weights, bool contribOperators)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(weights);
        g.NodeMulti(
            "MatMul",
            [normalized, g.Initializer("lm_head.weight_t", LlamaOnnxBuilder.Transpose(weights.Classifier, config.VocabSize, config.Dim), config.Dim, config.VocabSize)],
            [LlamaOnnxBuilder.Logits]);
        return Model(g, contribOperators);
    }

    /// <summary>input_ids, attention_mask, position_ids and the past key/values; logits and the present key/values.</summary>
    private static void DeclareIo(OnnxGraphBuilder g, LlamaConfig config, int cacheHeads)
    {
        int head = config.HeadSize;
        g.Input(LlamaOnnxBuilder.InputIds, DataType.Int64, "batch_size", "sequence_length");
        g.Input(LlamaOnnxBuilder.AttentionMask, DataType.Int64, "batch_size", "total_sequence_length");
        g.Input(LlamaOnnxBuilder.PositionIds, DataType.Int64, "batch_size", "sequence_length");
        for (int l = 0; l < config.Layers; l++)
        {
            g.Input(LlamaOnnxBuilder.PastKey(l), DataType.Float, "batch_size", cacheHeads, "past_sequence_length", head);
            g.Input(LlamaOnnxBuilder.PastValue(l), DataType.Float, "batch_size", cacheHeads, "past_sequence_length", head);
        }

        g.Output(LlamaOnnxBuilder.Logits, DataType.Float, "batch_size", "sequence_length", config.VocabSize);
        for (int l = 0; l < config.Layers; l++)
        {
            g.Output(LlamaOnnxBuilder.PresentKey(l), DataType.Float, "batch_size", cacheHeads, "total_sequence_length", head);
            g.Output(LlamaOnnxBuilder.PresentValue(l), DataType.Float, "batch_size", cacheHeads, "total_sequence_length", head);
        }
    }

    /// <summary>
    /// [batch, 1, sequence, total] float: 0 where query i (at total - sequence + i) may see key t (t at or before it and
    /// attention_mask 1 there), float32's lowest value elsewhere. Holes in the mask (padding anywhere) are honoured.
    /// </summary>
    private static string AttentionBias(OnnxGraphBuilder g)
    {
        string one = g.ScalarInt("one", 1);
        string total = g.Node("Gather", [g.Node("Shape", [LlamaOnnxBuilder.AttentionMask], "mask_shape"), one], "total_length", ("axis", 0L));
        string sequence = g.Node("Gather", [g.Node("Shape", [LlamaOnnxBuilder.InputIds], "ids_shape"), one], "sequence_length", ("axis", 0L));
        string keys = g.Node("Range", [g.ScalarInt("zero", 0), total, one], "key_positions");
        string queries = g.Node("Range", [g.Node("Sub", [total, sequence], "past_length"), total, one], "query_positions");
        string causal = g.Node(
            "LessOrEqual",
            [g.Node("Unsqueeze", [keys, g.Ints("axes_0", 0)], "key_row"), g.Node("Unsqueeze", [queries, g.Ints("axes_1", 1)], "query_column")],
            "causal");
        string padding = g.Node(
            "Unsqueeze", [g.Node("Cast", [LlamaOnnxBuilder.AttentionMask], "mask_bool", ("to", (int)DataType.Bool)), g.Ints("axes_1_2", 1, 2)], "key_valid");
        string allowed = g.Node("And", [causal, padding], "allowed");
        return g.Node("Where", [allowed, g.Scalar("open", 0f), g.Scalar("masked", Masked)], "attention_bias");
    }

    /// <summary>x [.., in] times W^T for a row-major W [out, in].</summary>
    public static string Linear(OnnxGraphBuilder g, string x, string name, float[] weight, int rows, int cols) =>
        g.Node("MatMul", [x, g.Initializer(name + ".weight_t", LlamaOnnxBuilder.Transpose(weight, rows, cols), cols, rows)], name);

    /// <summary>
    /// Repeats each of <paramref name="kvHeads"/> heads <paramref name="repeats"/> times along an axis of the form
    /// [..., kvHeads, 1, ...] given by <paramref name="split"/> (a reshape target with the 1 in place), then applies
    /// <paramref name="merge"/>: transformers' repeat_kv, head j of the queries meeting key/value head j / repeats.
    /// </summary>
    public static string RepeatHeads(OnnxGraphBuilder g, string x, string name, long[] split, long[] expand, long[] merge) =>
        g.Node(
            "Reshape",
            [g.Node("Expand", [g.Node("Reshape", [x, g.Ints(name + "_split_shape", split)], name + "_split"), g.Ints(name + "_expand_shape", expand)], name + "_expanded"),
             g.Ints(name + "_merge_shape", merge)],
            name + "_repeated");

    /// <summary>SwiGLU: down(silu(gate(x)) * up(x)).</summary>
    public static string FeedForward(OnnxGraphBuilder g, string x, string prefix, LlamaConfig config, LlamaWeights weights, int layer)
    {
        string gate = Linear(g, x, $"{prefix}.mlp.gate_proj", weights.W1[layer], config.HiddenDim, config.Dim);
        string up = Linear(g, x, $"{prefix}.mlp.up_proj", weights.W3[layer], config.HiddenDim, config.Dim);
        string silu = g.Node("Mul", [gate, g.Node("Sigmoid", [gate], "gate_sigmoid")], "gate_silu");
        return Linear(g, g.Node("Mul", [silu, up], "mlp_act"), $"{prefix}.mlp.down_proj", weights.W2[layer], config.Dim, config.HiddenDim);
    }

    /// <summary>The model around a finished graph: IR 8, opset 17, com.microsoft 1 when used.</summary>
    private static ModelProto Model(OnnxGraphBuilder g, bool contribOperators)
    {
        var model = new ModelProto
        {
            IrVersion = 8,
            ProducerName = "LlmAspire",
            ProducerVersion = typeof(DecoderGraphParts).Assembly.GetName().Version?.ToString() ?? "0",
            Graph = g.Graph,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = string.Empty, Version = LlamaOnnxBuilder.Opset });
        if (contribOperators)
        {
            model.OpsetImport.Add(new OperatorSetIdProto { Domain = LlamaOnnxBuilder.MicrosoftDomain, Version = 1 });
        }

        return model;
    }

    /// <summary>Plain RoPE angles as llama2.c computes them (float32): [positions, headSize / 2].</summary>
    public static (float[] Cos, float[] Sin) HalfTables(LlamaConfig config)
    {
        int half = config.HeadSize / 2;
        float[] cos = new float[config.ContextLength * half];
        float[] sin = new float[config.ContextLength * half];
        for (int pos = 0; pos < config.ContextLength; pos++)
        {
            for (int i = 0; i < half; i++)
            {
                float angle = pos * (1.0f / MathF.Pow(config.RopeTheta, 2 * i / (float)config.HeadSize));
                cos[(pos * half) + i] = MathF.Cos(angle);
                sin[(pos * half) + i] = MathF.Sin(angle);
            }
        }

        return (cos, sin);
    }
}
