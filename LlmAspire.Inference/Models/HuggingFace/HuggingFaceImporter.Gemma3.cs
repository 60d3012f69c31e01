using System.Text.Json;
using System.Text.Json.Nodes;
using static LlmAspire.Inference.Models.ConfigJson;

namespace LlmAspire.Inference.Models.HuggingFace;

/// <summary>
/// Gemma 3's decoder (transformers' <c>Gemma3TextConfig</c>, <c>modeling_gemma3.py</c>): the <c>gemma3_text</c> config
/// of Gemma3ForCausalLM (the 270M and 1B), or the <c>text_config</c> nested in the <c>gemma3</c> config of
/// Gemma3ForConditionalGeneration (4B and larger), whose vision tower is left out.
/// </summary>
public static partial class HuggingFaceImporter
{
    /// <summary>The model type of Gemma 3's decoder: ours, and GenAI's.</summary>
    private const string Gemma3Text = "gemma3_text";

    /// <summary>
    /// Gemma3TextConfig's defaults, which config.json may leave out: the 4B's text_config names only hidden_size,
    /// intermediate_size, num_hidden_layers, rope_scaling and sliding_window. RoPE bases are read in <see cref="ReadGemma3Rope"/>.
    /// </summary>
    private static JsonObject Gemma3TextDefaults() => new()
    {
        ["vocab_size"] = 262_208,
        ["hidden_size"] = 2304,
        ["intermediate_size"] = 9216,
        ["num_hidden_layers"] = 26,
        ["num_attention_heads"] = 8,
        ["num_key_value_heads"] = 4,
        ["head_dim"] = 256,
        ["hidden_activation"] = "gelu_pytorch_tanh",
        ["max_position_embeddings"] = 131_072,
        ["rms_norm_eps"] = 1e-6,
        ["pad_token_id"] = 0,
        ["eos_token_id"] = 1,
        ["bos_token_id"] = 2,
        ["tie_word_embeddings"] = true,
        ["query_pre_attn_scalar"] = 256,
        ["sliding_window"] = 4096,
    };

    /// <summary>The keys of a <c>gemma3</c> config.json's outer level that override its text_config: what generation and loading use.</summary>
    private static readonly string[] Gemma3OuterKeys = ["bos_token_id", "eos_token_id", "pad_token_id", "torch_dtype", "dtype", "tie_word_embeddings"];

    /// <summary>
    /// A <c>gemma3_text</c> config with Gemma3TextConfig's defaults filled in. From a <c>gemma3</c> config: its text_config,
    /// with the token ids, dtype and tying that the outer config gives (the ones Gemma3ForConditionalGeneration generates and loads with).
    /// </summary>
    private static JsonDocument Gemma3TextConfig(JsonElement root, string modelType)
    {
        JsonElement text = root;
        if (modelType == "gemma3")
        {
            if (!root.TryGetProperty("text_config", out text) || text.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidDataException($"{ConfigFile} of model_type 'gemma3' has no 'text_config' object (the language model's configuration).");
            }

            string inner = String(text, "model_type") ?? Gemma3Text;
            if (inner != Gemma3Text)
            {
                throw new NotSupportedException($"text_config model_type '{inner}' is not supported inside a gemma3 {ConfigFile}; {Gemma3Text} is.");
            }
        }

        JsonObject merged = Gemma3TextDefaults();
        foreach (JsonProperty property in text.EnumerateObject())
        {
            merged[property.Name] = JsonNode.Parse(property.Value.GetRawText());
        }

        if (modelType == "gemma3")
        {
            foreach (string key in Gemma3OuterKeys)
            {
                if (root.TryGetProperty(key, out JsonElement value) && value.ValueKind != JsonValueKind.Null)
                {
                    merged[key] = JsonNode.Parse(value.GetRawText());
                }
            }
        }

        if (Bool(text, "use_bidirectional_attention") == true)
        {
            throw new NotSupportedException("use_bidirectional_attention (EmbeddingGemma's encoder) is not supported; causal decoders are.");
        }

        merged["model_type"] = Gemma3Text;
        return JsonDocument.Parse(merged.ToJsonString());
    }

    /// <summary>
    /// The global layers' base (<c>rope_theta</c>, 1,000,000 by default) and scaling (<c>rope_scaling</c>), and the local layers'
    /// base (<c>rope_local_base_freq</c>, 10,000), which Gemma3TextModel uses unscaled. transformers 5 writes both in
    /// <c>rope_parameters</c>, one entry per layer type.
    /// </summary>
    private static (float Theta, RopeScaling? Scaling, float LocalTheta) ReadGemma3Rope(JsonElement root, int rotaryDim, int maxPositions)
    {
        if (root.TryGetProperty("rope_parameters", out JsonElement perType) && perType.ValueKind == JsonValueKind.Object
            && perType.TryGetProperty("full_attention", out JsonElement full) && full.ValueKind == JsonValueKind.Object)
        {
            float theta = Float(full, "rope_theta") ?? 1_000_000f;
            RopeScaling? scaling = Scaling(root, full, "rope_parameters.full_attention", Gemma3Text, rotaryDim, maxPositions);
            float local = 10_000f;
            if (perType.TryGetProperty("sliding_attention", out JsonElement sliding) && sliding.ValueKind == JsonValueKind.Object)
            {
                string type = String(sliding, "rope_type") ?? String(sliding, "type") ?? "default";
                if (type != "default")
                {
                    throw new NotSupportedException($"rope_parameters.sliding_attention rope_type '{type}' is not supported; the local layers' RoPE is plain.");
                }

                local = Float(sliding, "rope_theta") ?? local;
            }

            return (theta, scaling, local);
        }

        (_, RopeScaling? globalScaling) = ReadRope(root, Gemma3Text, rotaryDim, maxPositions);
        return (Float(root, "rope_theta") ?? 1_000_000f, globalScaling, Float(root, "rope_local_base_freq") ?? 10_000f);
    }

    /// <summary>
    /// The sliding window (dropped when it spans the context) and the pattern of local and global layers: <c>layer_types</c>
    /// when given, which must repeat a global layer every n-th layer, else <c>sliding_window_pattern</c> (6), as
    /// Gemma3TextConfig derives it: layer i is sliding when (i + 1) % pattern is not 0.
    /// </summary>
    private static (int Window, int Pattern) ReadGemma3Layers(JsonElement root, int layers, int context)
    {
        int window = root.TryGetProperty("sliding_window", out JsonElement value) && value.ValueKind == JsonValueKind.Number ? value.GetInt32() : 0;
        if (window < 0)
        {
            throw new InvalidDataException($"sliding_window {window} is not a positive number of positions.");
        }

        int pattern;
        if (root.TryGetProperty("layer_types", out JsonElement types) && types.ValueKind == JsonValueKind.Array)
        {
            string[] kinds = [.. types.EnumerateArray().Select(t => t.ValueKind == JsonValueKind.String ? t.GetString() ?? string.Empty : string.Empty)];
            pattern = Array.IndexOf(kinds, "full_attention") + 1;
            if (kinds.Length != layers || pattern == 0
                || kinds.Where((k, i) => k != ((i + 1) % pattern != 0 ? "sliding_attention" : "full_attention")).Any())
            {
                throw new NotSupportedException(
                    $"layer_types [{string.Join(", ", kinds)}] is not supported for {Gemma3Text}; {layers} entries with full_attention every n-th layer and sliding_attention between are.");
            }
        }
        else
        {
            pattern = Int(root, "sliding_window_pattern") ?? 6;
            if (pattern <= 0)
            {
                throw new InvalidDataException($"sliding_window_pattern {pattern} is not a positive number of layers.");
            }
        }

        return (window >= context ? 0 : window, pattern);
    }

    /// <summary>Where a Gemma 3 checkpoint keeps the decoder (<c>model.</c>, or a multimodal layout's) and its lm_head.</summary>
    private static (string ModelPrefix, string HeadName) Gemma3TensorPrefixes(IReadOnlyCollection<string> names)
    {
        return names.Contains("language_model.model.embed_tokens.weight") ? ("language_model.model.", "language_model.lm_head.weight")
            : names.Contains("model.language_model.embed_tokens.weight") ? ("model.language_model.", "lm_head.weight")
            : ("model.", "lm_head.weight");
    }
}
