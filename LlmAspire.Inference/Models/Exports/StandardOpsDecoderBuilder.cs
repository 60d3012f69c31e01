using Onnx;

namespace LlmAspire.Inference.Models.Exports;

/// <summary>
/// A Llama decoder in the shape Hugging Face Optimum exports (<c>optimum-cli export onnx --task text-generation-with-past</c>)
/// with standard ONNX operators only (opset 17: MatMul, Softmax, Concat, Gather, ...), as transformers' LlamaForCausalLM
/// computes it: RMSNorm spelled out, rotate-half RoPE from cos/sin tables gathered at <c>position_ids</c>, per layer
/// <c>past_key_values.N.key/value</c> concatenated with the new keys/values into <c>present.N.key/value</c>
/// ([batch, kv heads, past + new, head size]), repeat_kv, and an additive causal + padding bias from
/// <c>attention_mask</c>. llama2.c rotates adjacent pairs; its q/k rows are permuted to transformers' halves layout,
/// as transformers' conversion script does, which computes the same attention.
/// </summary>
public static class StandardOpsDecoderBuilder
{
    /// <summary>Builds the ONNX model.</summary>
    public static ModelProto Build(LlamaConfig config, LlamaWeights weights)
    {
        ArgumentNullException.ThrowIfNull(config);
        int dim = config.Dim, heads = config.Heads, kvHeads = config.KvHeads, head = config.HeadSize;
        int repeats = heads / kvHeads;
        (OnnxGraphBuilder g, string bias, string residual) = DecoderGraphParts.Begin("llama_standard", "standard-operator", config, weights, kvHeads);

        // cos/sin per position for the whole head (the half table twice), gathered at position_ids: [batch, 1, sequence, head].
        (float[] halfCos, float[] halfSin) = DecoderGraphParts.HalfTables(config);
        string cos = PositionTable(g, "cos", halfCos, config);
        string sin = PositionTable(g, "sin", halfSin, config);
        string scale = g.Scalar("attention_scale", 1.0f / MathF.Sqrt(head));

        for (int l = 0; l < config.Layers; l++)
        {
            string p = $"model.layers.{l}";
            string x = RmsNorm(g, residual, $"{p}.input_layernorm.weight", weights.AttentionNorm[l], config.NormEpsilon);
            string q = Rope(g, Heads(g, DecoderGraphParts.Linear(g, x, $"{p}.self_attn.q_proj", ToHalves(weights.Wq[l], heads, head, dim), heads * head, dim), heads, head), cos, sin, head);
            string k = Rope(g, Heads(g, DecoderGraphParts.Linear(g, x, $"{p}.self_attn.k_proj", ToHalves(weights.Wk[l], kvHeads, head, dim), kvHeads * head, dim), kvHeads, head), cos, sin, head);
            string v = Heads(g, DecoderGraphParts.Linear(g, x, $"{p}.self_attn.v_proj", weights.Wv[l], kvHeads * head, dim), kvHeads, head);
            string keys = g.NodeMulti("Concat", [LlamaOnnxBuilder.PastKey(l), k], [LlamaOnnxBuilder.PresentKey(l)], ("axis", 2L))[0];
            string values = g.NodeMulti("Concat", [LlamaOnnxBuilder.PastValue(l), v], [LlamaOnnxBuilder.PresentValue(l)], ("axis", 2L))[0];
            if (repeats > 1)
            {
                long[] split = [0, kvHeads, 1, -1, head], expand = [1, 1, repeats, 1, 1], merge = [0, heads, -1, head];
                keys = DecoderGraphParts.RepeatHeads(g, keys, $"{p}.self_attn.k", split, expand, merge);
                values = DecoderGraphParts.RepeatHeads(g, values, $"{p}.self_attn.v", split, expand, merge);
            }

            string scores = g.Node("Mul", [g.Node("MatMul", [q, g.Node("Transpose", [keys], "keys_t", ("perm", new long[] { 0, 1, 3, 2 }))], "qk"), scale], "scores");
            string weightsOut = g.Node("Softmax", [g.Node("Add", [scores, bias], "scores_masked")], "attention_weights", ("axis", -1L));
            string context = g.Node("MatMul", [weightsOut, values], "attention_context");
            string merged = g.Node(
                "Reshape",
                [g.Node("Transpose", [context], "context_t", ("perm", new long[] { 0, 2, 1, 3 })), g.Ints("merge_heads", 0, 0, heads * head)],
                "attention_merged");
            residual = g.Node("Add", [residual, DecoderGraphParts.Linear(g, merged, $"{p}.self_attn.o_proj", weights.Wo[l], dim, heads * head)], "residual_attn");
            string ffnInput = RmsNorm(g, residual, $"{p}.post_attention_layernorm.weight", weights.FfnNorm[l], config.NormEpsilon);
            residual = g.Node("Add", [residual, DecoderGraphParts.FeedForward(g, ffnInput, p, config, weights, l)], "residual_mlp");
        }

        string final = RmsNorm(g, residual, "model.norm.weight", weights.FinalNorm, config.NormEpsilon);
        return DecoderGraphParts.Finish(g, final, config, weights, contribOperators: false);
    }

    /// <summary>[batch, sequence, heads * head] to [batch, heads, sequence, head].</summary>
    private static string Heads(OnnxGraphBuilder g, string x, int heads, int head) =>
        g.Node("Transpose", [g.Node("Reshape", [x, g.Ints("split_heads", 0, 0, heads, head)], x + "_heads")], x + "_bnsh", ("perm", new long[] { 0, 2, 1, 3 }));

    /// <summary>x · cos + rotate_half(x) · sin, rotate_half(x) = [-x2, x1] for the halves x1, x2 of each head.</summary>
    private static string Rope(OnnxGraphBuilder g, string x, string cos, string sin, int head)
    {
        string axes = g.Ints("last_axis", 3);
        string first = g.Node("Slice", [x, g.Ints("zero_start", 0), g.Ints("half_end", head / 2), axes], x + "_first");
        string second = g.Node("Slice", [x, g.Ints("half_start", head / 2), g.Ints("head_end", head), axes], x + "_second");
        string rotated = g.Node("Concat", [g.Node("Neg", [second], x + "_neg"), first], x + "_rotate_half", ("axis", 3L));
        return g.Node("Add", [g.Node("Mul", [x, cos], x + "_cos"), g.Node("Mul", [rotated, sin], x + "_sin")], x + "_rope");
    }

    /// <summary>The [positions, head] table (half table repeated) gathered at position_ids and unsqueezed to [batch, 1, sequence, head].</summary>
    private static string PositionTable(OnnxGraphBuilder g, string name, float[] half, LlamaConfig config)
    {
        int h = config.HeadSize / 2;
        float[] full = new float[config.ContextLength * h * 2];
        for (int pos = 0; pos < config.ContextLength; pos++)
        {
            Array.Copy(half, pos * h, full, pos * 2 * h, h);
            Array.Copy(half, pos * h, full, (pos * 2 * h) + h, h);
        }

        string table = g.Initializer($"{name}_table", full, config.ContextLength, 2 * h);
        string gathered = g.Node("Gather", [table, LlamaOnnxBuilder.PositionIds], $"{name}_at_positions", ("axis", 0L));
        return g.Node("Unsqueeze", [gathered, g.Ints($"{name}_axes", 1)], $"{name}_bnsh");
    }

    /// <summary>transformers' LlamaRMSNorm: x / sqrt(mean(x²) + eps) · w.</summary>
    private static string RmsNorm(OnnxGraphBuilder g, string x, string name, float[] weight, float epsilon)
    {
        string meanSquare = g.Node("ReduceMean", [g.Node("Mul", [x, x], "squared")], "mean_square", ("axes", new long[] { -1 }), ("keepdims", 1L));
        string rms = g.Node("Sqrt", [g.Node("Add", [meanSquare, g.Scalar("rms_eps", epsilon)], "mean_square_eps")], "rms");
        return g.Node("Mul", [g.Node("Div", [x, rms], "normalized"), g.Initializer(name, weight, weight.Length)], name.Replace(".weight", string.Empty, StringComparison.Ordinal));
    }

    /// <summary>
    /// Rows of a q or k projection from llama2.c's adjacent pairs (2i, 2i + 1) to transformers' halves (i, i + head/2),
    /// per head: the permutation transformers' convert_llama_weights_to_hf applies.
    /// </summary>
    private static float[] ToHalves(float[] weight, int heads, int head, int cols)
    {
        float[] result = new float[weight.Length];
        for (int h = 0; h < heads; h++)
        {
            for (int i = 0; i < head / 2; i++)
            {
                Array.Copy(weight, ((h * head) + (2 * i)) * cols, result, ((h * head) + i) * cols, cols);
                Array.Copy(weight, ((h * head) + (2 * i) + 1) * cols, result, ((h * head) + (head / 2) + i) * cols, cols);
            }
        }

        return result;
    }
}
