using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using LlmAspire.Inference.Models;
using LlmAspire.Tests.Inference.Tokenization;

namespace LlmAspire.Tests.Inference.HuggingFace;

/// <summary>
/// Writes a Hugging Face model folder as transformers' <c>save_pretrained</c> lays it out: config.json with the keys
/// of the model type's configuration class, the tensors under their module names in one or two safetensors files
/// (F32, F16 or BF16), and a byte-level BPE tokenizer.json that covers the whole vocabulary.
/// </summary>
internal static class HuggingFaceCheckpoint
{
    private static readonly Dictionary<string, string> Architectures = new(StringComparer.Ordinal)
    {
        ["llama"] = "LlamaForCausalLM",
        ["mistral"] = "MistralForCausalLM",
        ["qwen2"] = "Qwen2ForCausalLM",
        ["qwen3"] = "Qwen3ForCausalLM",
        ["phi3"] = "Phi3ForCausalLM",
        ["gemma2"] = "Gemma2ForCausalLM",
        ["gemma3_text"] = "Gemma3ForCausalLM",
    };

    /// <summary>
    /// Writes the folder for <paramref name="config"/> (its model type, head_dim, rope_scaling, sliding window and
    /// attention_bias become config.json keys) and <paramref name="weights"/> in the checkpoint's own layout.
    /// <paramref name="configOverrides"/> replaces or adds config.json keys (a null value removes the key). With a
    /// <paramref name="gemma3Prefix"/> (<c>language_model.model.</c> as Google published Gemma 3, or <c>model.language_model.</c>
    /// as transformers 4.52 and later save it) a gemma3_text model is written as Gemma3ForConditionalGeneration: a
    /// <c>gemma3</c> config.json whose text_config the overrides apply to, the decoder under that prefix, and a vision tower.
    /// </summary>
    public static void Write(
        string directory,
        LlamaConfig config,
        LlamaWeights weights,
        string dtype,
        bool sharded = false,
        IReadOnlyDictionary<string, object?>? configOverrides = null,
        string? skip = null,
        int[]? eos = null,
        string? gemma3Prefix = null)
    {
        Directory.CreateDirectory(directory);
        List<(string Name, long[] Shape, float[] Values)> tensors = Tensors(config, weights);
        tensors.RemoveAll(t => t.Name == skip);
        if (gemma3Prefix is not null)
        {
            tensors = Gemma3ForConditionalGeneration(tensors, gemma3Prefix, config.Dim);
        }

        SafeTensorsWriter.WriteCheckpoint(directory, tensors, dtype, sharded);

        JsonObject json = ConfigJson(config, dtype, eos ?? [2, 3]);
        foreach ((string key, object? value) in configOverrides ?? new Dictionary<string, object?>())
        {
            json.Remove(key);
            if (value is not null)
            {
                json[key] = JsonSerializer.SerializeToNode(value);
            }
        }

        if (gemma3Prefix is not null)
        {
            json = Gemma3Config(json);
        }

        File.WriteAllText(Path.Combine(directory, "config.json"), json.ToJsonString());
        string[] pieces = [.. Enumerable.Range(0, config.VocabSize - 256).Select(i => "x" + i.ToString(CultureInfo.InvariantCulture))];
        File.WriteAllText(Path.Combine(directory, "tokenizer.json"), TokenizerJsonBuilder.ByteLevelBpe([], extraVocab: pieces));
    }

    /// <summary>
    /// Gemma3ForConditionalGeneration's tensors: the decoder's under <paramref name="prefix"/>, lm_head beside it, and two of
    /// the vision tower's and the projector's, which the import must leave alone.
    /// </summary>
    private static List<(string Name, long[] Shape, float[] Values)> Gemma3ForConditionalGeneration(
        List<(string Name, long[] Shape, float[] Values)> decoder, string prefix, int dim)
    {
        bool published = prefix == "language_model.model.";
        string Rename(string name) => name.StartsWith("model.", StringComparison.Ordinal)
            ? prefix + name["model.".Length..]
            : published ? "language_model." + name : name;
        string vision = published ? string.Empty : "model.";
        return
        [
            .. decoder.Select(t => (Rename(t.Name), t.Shape, t.Values)),
            (vision + "vision_tower.vision_model.post_layernorm.weight", [8], [.. Enumerable.Repeat(1f, 8)]),
            (vision + "multi_modal_projector.mm_input_projection_weight", [8, dim], new float[8 * dim]),
        ];
    }

    /// <summary>
    /// A gemma3 config.json around <paramref name="text"/>: the token ids and dtype at the outer level, as Google's Gemma 3
    /// configs have them, the rest as text_config, beside a vision_config.
    /// </summary>
    private static JsonObject Gemma3Config(JsonObject text)
    {
        var outer = new JsonObject
        {
            ["architectures"] = new JsonArray("Gemma3ForConditionalGeneration"),
            ["model_type"] = "gemma3",
            ["boi_token_index"] = 255_999,
            ["image_token_index"] = 262_144,
            ["mm_tokens_per_image"] = 256,
        };
        foreach (string key in new[] { "bos_token_id", "eos_token_id", "pad_token_id", "torch_dtype" })
        {
            if (text[key] is JsonNode value)
            {
                text.Remove(key);
                outer[key] = value;
            }
        }

        text.Remove("architectures");
        outer["text_config"] = text;
        outer["vision_config"] = new JsonObject { ["model_type"] = "siglip_vision_model", ["hidden_size"] = 8, ["image_size"] = 16, ["patch_size"] = 4 };
        return outer;
    }

    /// <summary>The tensors under transformers' module names.</summary>
    public static List<(string Name, long[] Shape, float[] Values)> Tensors(LlamaConfig config, LlamaWeights weights)
    {
        int dim = config.Dim, qDim = config.QueryDim, kvDim = config.KvDim;
        var tensors = new List<(string Name, long[] Shape, float[] Values)> { ("model.embed_tokens.weight", [config.VocabSize, dim], weights.TokenEmbedding) };
        for (int l = 0; l < config.Layers; l++)
        {
            string p = string.Create(CultureInfo.InvariantCulture, $"model.layers.{l}.");
            tensors.Add((p + "input_layernorm.weight", [dim], weights.AttentionNorm[l]));
            if (config.ModelType == "phi3")
            {
                // Phi3Attention.qkv_proj: the rows of q, then k, then v; Phi3MLP.gate_up_proj: gate, then up.
                tensors.Add((p + "self_attn.qkv_proj.weight", [qDim + 2 * kvDim, dim], [.. weights.Wq[l], .. weights.Wk[l], .. weights.Wv[l]]));
            }
            else
            {
                tensors.Add((p + "self_attn.q_proj.weight", [qDim, dim], weights.Wq[l]));
                tensors.Add((p + "self_attn.k_proj.weight", [kvDim, dim], weights.Wk[l]));
                tensors.Add((p + "self_attn.v_proj.weight", [kvDim, dim], weights.Wv[l]));
            }

            tensors.Add((p + "self_attn.o_proj.weight", [dim, qDim], weights.Wo[l]));
            if (weights.Bq is not null)
            {
                tensors.Add((p + "self_attn.q_proj.bias", [qDim], weights.Bq[l]));
                tensors.Add((p + "self_attn.k_proj.bias", [kvDim], weights.Bk![l]));
                tensors.Add((p + "self_attn.v_proj.bias", [kvDim], weights.Bv![l]));
            }

            if (weights.Bo is not null)
            {
                tensors.Add((p + "self_attn.o_proj.bias", [dim], weights.Bo[l]));
            }

            if (weights.QNorm is not null)
            {
                tensors.Add((p + "self_attn.q_norm.weight", [config.HeadSize], weights.QNorm[l]));
                tensors.Add((p + "self_attn.k_norm.weight", [config.HeadSize], weights.KNorm![l]));
            }

            if (config.SandwichNorms)
            {
                // Gemma2DecoderLayer: post_attention_layernorm normalizes the attention output; pre_feedforward_layernorm feeds the MLP.
                tensors.Add((p + "post_attention_layernorm.weight", [dim], weights.PostAttentionNorm![l]));
                tensors.Add((p + "pre_feedforward_layernorm.weight", [dim], weights.FfnNorm[l]));
                tensors.Add((p + "post_feedforward_layernorm.weight", [dim], weights.PostFfnNorm![l]));
            }
            else
            {
                tensors.Add((p + "post_attention_layernorm.weight", [dim], weights.FfnNorm[l]));
            }

            if (config.ModelType == "phi3")
            {
                tensors.Add((p + "mlp.gate_up_proj.weight", [2 * config.HiddenDim, dim], [.. weights.W1[l], .. weights.W3[l]]));
            }
            else
            {
                tensors.Add((p + "mlp.gate_proj.weight", [config.HiddenDim, dim], weights.W1[l]));
                tensors.Add((p + "mlp.up_proj.weight", [config.HiddenDim, dim], weights.W3[l]));
            }

            tensors.Add((p + "mlp.down_proj.weight", [dim, config.HiddenDim], weights.W2[l]));
        }

        tensors.Add(("model.norm.weight", [dim], weights.FinalNorm));
        if (!config.TiedEmbeddings)
        {
            tensors.Add(("lm_head.weight", [config.VocabSize, dim], weights.Classifier));
        }

        return tensors;
    }

    /// <summary>The values <paramref name="w"/> holds after a round trip through <paramref name="dtype"/>.</summary>
    public static LlamaWeights RoundTrip(LlamaWeights w, string dtype)
    {
        float[] R(float[] values) => [.. values.Select(v => SafeTensorsWriter.RoundTrip(v, dtype))];
        return Map(w, R, R);
    }

    /// <summary>
    /// <paramref name="w"/> in Gemma's conventions: the model multiplies norms by (1 + weight), so checkpoints hold them
    /// around 0 where other models hold them around 1, and it multiplies the embeddings by √hidden_size, so they are that
    /// much smaller (the lm_head too when tied). Random weights without this repeat the prompt's last token.
    /// </summary>
    public static LlamaWeights GemmaConventions(LlamaWeights w, float embeddingMultiplier) =>
        Map(w, m => m, n => [.. n.Select(v => v - 1f)], e => [.. e.Select(v => v / embeddingMultiplier)]);

    /// <summary>
    /// A copy of <paramref name="w"/> with <paramref name="matrix"/> applied to matrices and biases, <paramref name="norm"/> to
    /// norm weights, <paramref name="embeddingMap"/> (else <paramref name="matrix"/>) to the token embedding.
    /// </summary>
    private static LlamaWeights Map(LlamaWeights w, Func<float[], float[]> matrix, Func<float[], float[]> norm, Func<float[], float[]>? embeddingMap = null)
    {
        float[][] L(float[][] layers) => [.. layers.Select(matrix)];
        float[][]? O(float[][]? layers) => layers is null ? null : L(layers);
        float[][] N(float[][] layers) => [.. layers.Select(norm)];
        float[][]? ON(float[][]? layers) => layers is null ? null : N(layers);
        float[] embedding = (embeddingMap ?? matrix)(w.TokenEmbedding);
        return new LlamaWeights
        {
            TokenEmbedding = embedding,
            AttentionNorm = N(w.AttentionNorm),
            Wq = L(w.Wq),
            Wk = L(w.Wk),
            Wv = L(w.Wv),
            Wo = L(w.Wo),
            Bq = O(w.Bq),
            Bk = O(w.Bk),
            Bv = O(w.Bv),
            Bo = O(w.Bo),
            QNorm = ON(w.QNorm),
            KNorm = ON(w.KNorm),
            FfnNorm = N(w.FfnNorm),
            PostAttentionNorm = ON(w.PostAttentionNorm),
            PostFfnNorm = ON(w.PostFfnNorm),
            W1 = L(w.W1),
            W2 = L(w.W2),
            W3 = L(w.W3),
            FinalNorm = norm(w.FinalNorm),
            Classifier = ReferenceEquals(w.Classifier, w.TokenEmbedding) ? embedding : matrix(w.Classifier),
        };
    }

    /// <summary>config.json as the model type's configuration class writes it.</summary>
    private static JsonObject ConfigJson(LlamaConfig config, string dtype, int[] eos)
    {
        var json = new JsonObject
        {
            ["architectures"] = new JsonArray(Architectures[config.ModelType]),
            ["model_type"] = config.ModelType,
            ["hidden_size"] = config.Dim,
            ["intermediate_size"] = config.HiddenDim,
            ["num_hidden_layers"] = config.Layers,
            ["num_attention_heads"] = config.Heads,
            ["num_key_value_heads"] = config.KvHeads,
            ["vocab_size"] = config.VocabSize,
            ["max_position_embeddings"] = config.ContextLength,
            ["rope_theta"] = config.RopeTheta,
            ["rms_norm_eps"] = config.NormEpsilon,
            ["tie_word_embeddings"] = config.TiedEmbeddings,
            ["hidden_act"] = "silu",
            ["bos_token_id"] = 1,
            ["eos_token_id"] = eos.Length == 1 ? (JsonNode)JsonValue.Create(eos[0]) : new JsonArray([.. eos.Select(e => (JsonNode?)JsonValue.Create(e))]),
            ["torch_dtype"] = dtype == "F32" ? "float32" : dtype == "F16" ? "float16" : "bfloat16",
        };
        if (config.HeadDim > 0 || config.ModelType is "qwen3" or "gemma2" or "gemma3_text")
        {
            json["head_dim"] = config.HeadSize;
        }

        json["rope_scaling"] = config.RopeScaling switch
        {
            null => null,
            { Type: "llama3" } s => new JsonObject
            {
                ["rope_type"] = "llama3",
                ["factor"] = s.Factor,
                ["low_freq_factor"] = s.LowFreqFactor,
                ["high_freq_factor"] = s.HighFreqFactor,
                ["original_max_position_embeddings"] = s.OriginalMaxPositionEmbeddings,
            },
            { } s => new JsonObject { ["rope_type"] = s.Type, ["factor"] = s.Factor },
        };

        switch (config.ModelType)
        {
            case "llama":
                json["attention_bias"] = config.OutputBias;
                json["mlp_bias"] = false;
                break;
            case "mistral":
                json["sliding_window"] = config.SlidingWindow > 0 ? config.SlidingWindow : null;
                break;
            case "gemma2":
                // Gemma2Config's keys; config.json carries hidden_act beside hidden_activation.
                json["hidden_act"] = "gelu_pytorch_tanh";
                json["hidden_activation"] = "gelu_pytorch_tanh";
                json["query_pre_attn_scalar"] = config.QueryPreAttnScalar;
                json["attn_logit_softcapping"] = config.AttentionSoftcap > 0 ? config.AttentionSoftcap : null;
                json["final_logit_softcapping"] = config.FinalLogitSoftcap > 0 ? config.FinalLogitSoftcap : null;
                json["sliding_window"] = config.SlidingWindow > 0 ? config.SlidingWindow : 4096;
                json["attention_bias"] = false;
                json["pad_token_id"] = 0;
                break;
            case "gemma3_text":
                // Gemma3TextConfig's keys (no hidden_act); rope_theta is the global layers' base, rope_scaling theirs too.
                json.Remove("hidden_act");
                json["hidden_activation"] = "gelu_pytorch_tanh";
                json["query_pre_attn_scalar"] = config.QueryPreAttnScalar;
                json["attn_logit_softcapping"] = config.AttentionSoftcap > 0 ? config.AttentionSoftcap : null;
                json["final_logit_softcapping"] = config.FinalLogitSoftcap > 0 ? config.FinalLogitSoftcap : null;
                json["sliding_window"] = config.SlidingWindow > 0 ? config.SlidingWindow : 4096;
                json["sliding_window_pattern"] = config.SlidingWindowPattern;
                json["rope_local_base_freq"] = config.LocalRopeTheta;
                json["attention_bias"] = config.OutputBias;
                json["cache_implementation"] = "hybrid";
                json["pad_token_id"] = 0;
                break;
            case "phi3":
                // Phi3Config: partial_rotary_factor, original_max_position_embeddings (longrope's threshold), sliding_window.
                json["partial_rotary_factor"] = config.RotaryDim > 0 ? (double)config.RotaryDim / config.HeadSize : 1.0;
                json["original_max_position_embeddings"] = config.ContextLength;
                json["sliding_window"] = config.SlidingWindow > 0 ? config.SlidingWindow : null;
                json["attention_bias"] = false;
                json["resid_pdrop"] = 0.0;
                break;
            default:
                json["use_sliding_window"] = config.SlidingWindow > 0;
                json["sliding_window"] = config.SlidingWindow > 0 ? config.SlidingWindow : 4096;
                json["max_window_layers"] = config.SlidingWindow > 0 ? config.FirstSlidingLayer : 28;
                if (config.ModelType == "qwen3")
                {
                    json["attention_bias"] = config.OutputBias;
                }

                break;
        }

        return json;
    }
}
