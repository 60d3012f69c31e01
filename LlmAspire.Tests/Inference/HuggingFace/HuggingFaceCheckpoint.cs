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
    };

    /// <summary>
    /// Writes the folder for <paramref name="config"/> (its model type, head_dim, rope_scaling, sliding window and
    /// attention_bias become config.json keys) and <paramref name="weights"/> in the checkpoint's own layout.
    /// <paramref name="configOverrides"/> replaces or adds config.json keys (a null value removes the key).
    /// </summary>
    public static void Write(
        string directory,
        LlamaConfig config,
        LlamaWeights weights,
        string dtype,
        bool sharded = false,
        IReadOnlyDictionary<string, object?>? configOverrides = null,
        string? skip = null,
        int[]? eos = null)
    {
        Directory.CreateDirectory(directory);
        List<(string Name, long[] Shape, float[] Values)> tensors = Tensors(config, weights);
        tensors.RemoveAll(t => t.Name == skip);
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

        File.WriteAllText(Path.Combine(directory, "config.json"), json.ToJsonString());
        string[] pieces = [.. Enumerable.Range(0, config.VocabSize - 256).Select(i => "x" + i.ToString(CultureInfo.InvariantCulture))];
        File.WriteAllText(Path.Combine(directory, "tokenizer.json"), TokenizerJsonBuilder.ByteLevelBpe([], extraVocab: pieces));
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
        float[][] L(float[][] layers) => [.. layers.Select(R)];
        float[][]? O(float[][]? layers) => layers is null ? null : L(layers);
        float[] embedding = R(w.TokenEmbedding);
        return new LlamaWeights
        {
            TokenEmbedding = embedding,
            AttentionNorm = L(w.AttentionNorm),
            Wq = L(w.Wq),
            Wk = L(w.Wk),
            Wv = L(w.Wv),
            Wo = L(w.Wo),
            Bq = O(w.Bq),
            Bk = O(w.Bk),
            Bv = O(w.Bv),
            Bo = O(w.Bo),
            QNorm = O(w.QNorm),
            KNorm = O(w.KNorm),
            FfnNorm = L(w.FfnNorm),
            PostAttentionNorm = O(w.PostAttentionNorm),
            PostFfnNorm = O(w.PostFfnNorm),
            W1 = L(w.W1),
            W2 = L(w.W2),
            W3 = L(w.W3),
            FinalNorm = R(w.FinalNorm),
            Classifier = ReferenceEquals(w.Classifier, w.TokenEmbedding) ? embedding : R(w.Classifier),
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
        if (config.HeadDim > 0 || config.ModelType is "qwen3" or "gemma2")
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
