using Onnx;

namespace LlmAspire.Inference.Models.Exports;

/// <summary>
/// A Llama decoder in the shape ONNX Runtime GenAI serves without GroupQueryAttention: per layer
/// <c>com.microsoft.RotaryEmbedding</c> (interleaved, llama2.c's adjacent pairs) on queries and keys, fed the
/// <c>position_ids</c> input, then <c>com.microsoft.MultiHeadAttention</c> with separate past and present key/value
/// tensors ([batch, heads, past, head size] in, past + new out) and an additive bias made from <c>attention_mask</c>;
/// RMSNorm as <c>SimplifiedLayerNormalization</c>. MultiHeadAttention has one head count for queries and keys, so
/// grouped key/value heads are repeated before it and the cache holds every query head.
/// </summary>
public static class MultiHeadAttentionDecoderBuilder
{
    /// <summary>Builds the ONNX model.</summary>
    public static ModelProto Build(LlamaConfig config, LlamaWeights weights)
    {
        ArgumentNullException.ThrowIfNull(config);
        int dim = config.Dim, heads = config.Heads, kvHeads = config.KvHeads, head = config.HeadSize;
        int repeats = heads / kvHeads;
        (OnnxGraphBuilder g, string bias, string residual) = DecoderGraphParts.Begin("llama_mha", "MultiHeadAttention", config, weights, heads);
        (float[] cosTable, float[] sinTable) = DecoderGraphParts.HalfTables(config);
        string cos = g.Initializer("cos_cache", cosTable, config.ContextLength, head / 2);
        string sin = g.Initializer("sin_cache", sinTable, config.ContextLength, head / 2);

        for (int l = 0; l < config.Layers; l++)
        {
            string p = $"model.layers.{l}";
            string x = Norm(g, residual, $"{p}.input_layernorm.weight", weights.AttentionNorm[l], config.NormEpsilon);
            string q = Rotate(g, DecoderGraphParts.Linear(g, x, $"{p}.attn.q_proj", weights.Wq[l], heads * head, dim), cos, sin);
            string k = Rotate(g, DecoderGraphParts.Linear(g, x, $"{p}.attn.k_proj", weights.Wk[l], kvHeads * head, dim), cos, sin);
            string v = DecoderGraphParts.Linear(g, x, $"{p}.attn.v_proj", weights.Wv[l], kvHeads * head, dim);
            if (repeats > 1)
            {
                long[] split = [0, 0, kvHeads, 1, head], expand = [1, 1, 1, repeats, 1], merge = [0, 0, heads * head];
                k = DecoderGraphParts.RepeatHeads(g, k, $"{p}.attn.k", split, expand, merge);
                v = DecoderGraphParts.RepeatHeads(g, v, $"{p}.attn.v", split, expand, merge);
            }

            string attention = g.DomainNode(
                LlamaOnnxBuilder.MicrosoftDomain,
                "MultiHeadAttention",
                [q, k, v, string.Empty, string.Empty, bias, LlamaOnnxBuilder.PastKey(l), LlamaOnnxBuilder.PastValue(l)],
                [g.Unique($"{p}.attn.output"), LlamaOnnxBuilder.PresentKey(l), LlamaOnnxBuilder.PresentValue(l)],
                ("num_heads", (long)heads),
                ("scale", 1.0f / MathF.Sqrt(head)))[0];
            residual = g.Node("Add", [residual, DecoderGraphParts.Linear(g, attention, $"{p}.attn.o_proj", weights.Wo[l], dim, heads * head)], "residual_attn");
            string ffnInput = Norm(g, residual, $"{p}.post_attention_layernorm.weight", weights.FfnNorm[l], config.NormEpsilon);
            residual = g.Node("Add", [residual, DecoderGraphParts.FeedForward(g, ffnInput, p, config, weights, l)], "residual_mlp");
        }

        string final = Norm(g, residual, "model.norm.weight", weights.FinalNorm, config.NormEpsilon);
        return DecoderGraphParts.Finish(g, final, config, weights, contribOperators: true);
    }

    private static string Rotate(OnnxGraphBuilder g, string x, string cos, string sin) =>
        g.DomainNode(
            LlamaOnnxBuilder.MicrosoftDomain,
            "RotaryEmbedding",
            [x, LlamaOnnxBuilder.PositionIds, cos, sin],
            [g.Unique(x + "_rotated")],
            ("interleaved", 1L))[0];

    private static string Norm(OnnxGraphBuilder g, string x, string name, float[] weight, float epsilon) =>
        g.NodeMulti(
            "SimplifiedLayerNormalization",
            [x, g.Initializer(name, weight, weight.Length)],
            [g.Unique(name.Replace(".weight", string.Empty, StringComparison.Ordinal))],
            ("axis", -1L),
            ("epsilon", epsilon))[0];
}
