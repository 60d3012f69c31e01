using System.Globalization;
using System.Text.Json;
using static LlmAspire.Inference.Models.ConfigJson;

namespace LlmAspire.Inference.Models.HuggingFace;

/// <summary>
/// Imports a Hugging Face Llama-family folder: <c>config.json</c>, <c>model.safetensors</c> or a sharded
/// <c>model.safetensors.index.json</c> (F32/F16/BF16), tied or separate <c>lm_head</c>, grouped-query
/// attention, <c>rope_theta</c>, <c>rms_norm_eps</c>, <c>max_position_embeddings</c>. The model types are
/// <c>llama</c> (with Llama 3.1's <c>llama3</c>, <c>linear</c> or <c>dynamic</c> <c>rope_scaling</c>, <c>attention_bias</c>),
/// <c>mistral</c> (its <c>sliding_window</c>), <c>qwen2</c> (q/k/v biases, <c>use_sliding_window</c>) and <c>qwen3</c>
/// (per-head q/k RMSNorm, explicit <c>head_dim</c>) and <c>phi3</c> (Phi-3, Phi-3.5, Phi-4-mini: fused <c>qkv_proj</c> and
/// <c>gate_up_proj</c>, split here; <c>partial_rotary_factor</c>; <c>longrope</c> with its short factors) and <c>gemma2</c>
/// (RMSNorm × (1 + w), folded here; embeddings × √hidden_size; sandwich norms; GeGLU; attention and final logit
/// soft-capping; <c>query_pre_attn_scalar</c>; a sliding window on the even layers) and <c>gemma3_text</c> (Gemma 3's decoder,
/// also from a <c>gemma3</c> folder's <c>text_config</c> and <c>language_model</c> weights: Gemma 2's norms and GeGLU, per-head
/// q/k norms, five local layers of sliding window and their own RoPE base to each global one). The tokenizer files (<c>tokenizer.json</c>,
/// <c>tokenizer_config.json</c>, ...) are carried over unchanged. Every check runs, and every tensor is read,
/// before the first output file is written.
/// </summary>
public static partial class HuggingFaceImporter
{
    /// <summary>The Hugging Face config file.</summary>
    public const string ConfigFile = "config.json";

    /// <summary>Files copied from the source folder when present.</summary>
    public static IReadOnlyList<string> CarriedFiles { get; } =
        ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "generation_config.json", "tokenizer.model"];

    /// <summary>The <c>model_type</c>s that import.</summary>
    public static IReadOnlyList<string> SupportedModelTypes { get; } = ["llama", "mistral", "qwen2", "qwen3", "phi3", "gemma2", "gemma3_text", "gemma3"];

    /// <summary>True when <paramref name="directory"/> looks like a Hugging Face model folder.</summary>
    public static bool IsHuggingFaceFolder(string directory) =>
        File.Exists(Path.Combine(directory, ConfigFile))
        && (File.Exists(Path.Combine(directory, "model.safetensors")) || File.Exists(Path.Combine(directory, "model.safetensors.index.json")));

    /// <summary>
    /// Reads config.json into a <see cref="LlamaConfig"/> and the special token ids, with transformers' defaults for
    /// each model type; unsupported variants are one-line errors that name the key.
    /// </summary>
    public static (LlamaConfig Config, TokenIds Tokens) ReadConfig(string directory)
    {
        string path = Path.Combine(directory, ConfigFile);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"'{directory}' has no {ConfigFile}.", path);
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(File.ReadAllText(path));
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"'{path}' is not valid JSON: {ex.Message}", ex);
        }

        using (document)
        {
            return ReadConfig(document.RootElement);
        }
    }

    private static (LlamaConfig Config, TokenIds Tokens) ReadConfig(JsonElement root)
    {
        string modelType = String(root, "model_type") ?? "llama";
        if (!SupportedModelTypes.Contains(modelType, StringComparer.Ordinal))
        {
            throw new NotSupportedException($"model_type '{modelType}' is not supported; {string.Join(", ", SupportedModelTypes)} are.");
        }

        if (modelType is "gemma3" or "gemma3_text")
        {
            using JsonDocument text = Gemma3TextConfig(root, modelType);
            return ReadDecoderConfig(text.RootElement, Gemma3Text);
        }

        return ReadDecoderConfig(root, modelType);
    }

    private static (LlamaConfig Config, TokenIds Tokens) ReadDecoderConfig(JsonElement root, string modelType)
    {

        int dim = Int(root, "hidden_size") ?? throw Missing("hidden_size");
        int heads = Int(root, "num_attention_heads") ?? throw Missing("num_attention_heads");
        int kvHeads = Int(root, "num_key_value_heads") ?? heads;
        int layers = Int(root, "num_hidden_layers") ?? throw Missing("num_hidden_layers");
        int hidden = Int(root, "intermediate_size") ?? throw Missing("intermediate_size");
        int vocab = Int(root, "vocab_size") ?? throw Missing("vocab_size");
        int context = Int(root, "max_position_embeddings") ?? 2048;
        float eps = Float(root, "rms_norm_eps") ?? 1e-6f;
        bool gemma3 = modelType == Gemma3Text;
        bool gemma = modelType == "gemma2" || gemma3;
        bool tied = Bool(root, "tie_word_embeddings") ?? gemma;

        // transformers' Qwen3Config defaults head_dim to 128, Gemma2Config and Gemma3TextConfig to 256; the others to hidden_size / num_attention_heads.
        int headDim = Int(root, "head_dim") ?? (modelType == "qwen3" ? 128 : gemma ? 256 : 0);
        int headSize = headDim > 0 ? headDim : dim / heads;
        if (heads <= 0 || kvHeads <= 0 || heads % kvHeads != 0 || headSize % 2 != 0 || (headDim == 0 && dim % heads != 0))
        {
            throw new InvalidDataException($"Inconsistent attention shape: hidden_size {dim}, num_attention_heads {heads}, num_key_value_heads {kvHeads}, head_dim {headSize}.");
        }

        // transformers' Phi-3 rotates the first int(head_dim * partial_rotary_factor) dimensions of each head (Phi-4-mini: 0.75).
        int rotaryDim = headSize;
        if (Double(root, "partial_rotary_factor") is double partial && partial != 1)
        {
            if (modelType != "phi3")
            {
                throw new NotSupportedException($"partial_rotary_factor {partial} is not supported for model_type '{modelType}'; the rotary embedding covers whole heads (phi3 honours it).");
            }

            rotaryDim = (int)(headSize * partial);
            if (partial <= 0 || partial > 1 || rotaryDim < 2 || rotaryDim % 2 != 0)
            {
                throw new InvalidDataException($"partial_rotary_factor {partial} gives a rotary dimension of {rotaryDim} for heads of {headSize}; it must be even and at least 2.");
            }
        }

        float theta, localTheta = 0;
        RopeScaling? scaling;
        if (gemma3)
        {
            (theta, scaling, localTheta) = ReadGemma3Rope(root, rotaryDim, context);
        }
        else
        {
            (theta, scaling) = ReadRope(root, modelType, rotaryDim, context);
        }
        if (scaling is { Type: "dynamic" or "longrope" })
        {
            // Dynamic NTK rescales the base, and longrope switches to its long factors, once a sequence outgrows this
            // length, which a fixed cos/sin cache cannot follow: the served context stops there.
            int plain = scaling.OriginalMaxPositionEmbeddings > 0 ? Math.Min(scaling.OriginalMaxPositionEmbeddings, context) : context;
            scaling = scaling with { OriginalMaxPositionEmbeddings = plain };
            context = plain;
        }

        if (Bool(root, "mlp_bias") == true)
        {
            throw new NotSupportedException("mlp_bias (biases in gate_proj, up_proj and down_proj) is not supported.");
        }

        // Gemma2MLP and Gemma3MLP apply ACT2FN[hidden_activation]; the others ACT2FN[hidden_act].
        string activationKey = gemma ? "hidden_activation" : "hidden_act";
        string activation = String(root, activationKey) ?? (gemma ? String(root, "hidden_act") ?? "gelu_pytorch_tanh" : "silu");
        if (activation != (gemma ? "gelu_pytorch_tanh" : "silu"))
        {
            throw new NotSupportedException(gemma
                ? $"{activationKey} '{activation}' is not supported for {modelType}; GeGLU with gelu_pytorch_tanh is."
                : $"hidden_act '{activation}' is not supported; SwiGLU (silu) is.");
        }

        // transformers: Llama, Qwen3 and Gemma 3 put attention_bias on q, k, v and o; Qwen2 always has q/k/v biases and no o bias; Mistral none.
        bool attentionBias = modelType is "llama" or "qwen3" or Gemma3Text && (Bool(root, "attention_bias") ?? false);
        (int window, int firstSliding) = ReadSlidingWindow(root, modelType, layers, context);

        int pattern = 0;
        if (gemma3)
        {
            (window, pattern) = ReadGemma3Layers(root, layers, context);
        }
        else if (gemma)
        {
            (window, firstSliding) = ReadGemmaSlidingWindow(root, layers, context);
        }

        int[] eos = Ints(root, "eos_token_id") ?? [2];
        var tokens = new TokenIds(
            Ints(root, "bos_token_id")?.FirstOrDefault() ?? 1,
            eos,
            Ints(root, "pad_token_id")?.FirstOrDefault() ?? eos[0]);
        var config = new LlamaConfig(dim, hidden, layers, heads, kvHeads, vocab, context, theta, eps, tied)
        {
            ModelType = modelType,
            HeadDim = headDim > 0 && headDim != dim / heads ? headDim : 0,
            RotaryDim = rotaryDim != headSize ? rotaryDim : 0,
            RopeScaling = scaling,
            SlidingWindow = window,
            FirstSlidingLayer = firstSliding,
            QkvBias = attentionBias || modelType == "qwen2",
            OutputBias = attentionBias,
            QkNorm = modelType is "qwen3" or Gemma3Text,
        };
        if (gemma)
        {
            // Gemma2Config's defaults (Gemma3TextConfig's: no caps); a null cap means none. Gemma2Model multiplies the embeddings
            // by torch.tensor(hidden_size ** 0.5, dtype=hidden_states.dtype), Gemma 3 by embed_scale.to(weight.dtype): rounded to the checkpoint's dtype.
            float? Cap(string key, float fallback) =>
                root.TryGetProperty(key, out JsonElement value) ? value.ValueKind == JsonValueKind.Number ? value.GetSingle() : 0f : fallback;
            config = config with
            {
                HiddenAct = activation,
                SandwichNorms = true,
                EmbeddingMultiplier = RoundToDtype((float)Math.Sqrt(dim), String(root, "torch_dtype") ?? String(root, "dtype") ?? "float32"),
                QueryPreAttnScalar = Float(root, "query_pre_attn_scalar") ?? 256f,
                AttentionSoftcap = Cap("attn_logit_softcapping", gemma3 ? 0f : 50f) ?? 0,
                FinalLogitSoftcap = Cap("final_logit_softcapping", gemma3 ? 0f : 30f) ?? 0,
                AlternatingSlidingWindow = !gemma3 && window > 0,
                SlidingWindowPattern = pattern,
                LocalRopeTheta = localTheta,
            };
        }

        return (config, tokens);

        static InvalidDataException Missing(string key) => new($"{ConfigFile} lacks '{key}'.");
    }

    /// <summary>
    /// rope_theta and the scaling, from <c>rope_scaling</c> (transformers 4) or <c>rope_parameters</c> (transformers 5);
    /// <c>type</c> is the old name of <c>rope_type</c>, and <c>default</c> is plain RoPE.
    /// </summary>
    private static (float Theta, RopeScaling? Scaling) ReadRope(JsonElement root, string modelType, int rotaryDim, int maxPositions)
    {
        JsonElement? parameters = null;
        string key = "rope_scaling";
        foreach (string name in new[] { "rope_parameters", "rope_scaling" })
        {
            if (root.TryGetProperty(name, out JsonElement value) && value.ValueKind == JsonValueKind.Object)
            {
                parameters = value;
                key = name;
                break;
            }
        }

        float theta = Float(root, "rope_theta") ?? (parameters is { } p0 ? Float(p0, "rope_theta") : null) ?? 10000f;
        return (theta, parameters is { } p ? Scaling(root, p, key, modelType, rotaryDim, maxPositions) : null);
    }

    /// <summary>The scaling that the rope parameters <paramref name="p"/> (config.json's <paramref name="key"/>) describe; null for plain RoPE.</summary>
    private static RopeScaling? Scaling(JsonElement root, JsonElement p, string key, string modelType, int rotaryDim, int maxPositions)
    {
        string type = String(p, "rope_type") ?? String(p, "type") ?? "default";
        type = type == "su" && modelType == "phi3" ? "longrope" : type;
        double Number(string name) =>
            Double(p, name) ?? throw new InvalidDataException($"{key} (rope_type '{type}') lacks '{name}'.");
        return type switch
        {
            "default" => null,
            "linear" => new RopeScaling(type, Number("factor")),
            "dynamic" => new RopeScaling(type, Number("factor"), OriginalMaxPositionEmbeddings: (int)(Double(p, "original_max_position_embeddings") ?? 0)),
            "llama3" => new RopeScaling(
                type, Number("factor"), Number("low_freq_factor"), Number("high_freq_factor"), (int)Number("original_max_position_embeddings")),
            "longrope" when modelType == "phi3" => LongRope(root, p, key, rotaryDim, maxPositions),
            _ => throw new NotSupportedException(
                $"{key} rope_type '{type}' is not supported; {string.Join(", ", RopeScaling.SupportedTypes)} are (plus plain RoPE)."),
        };
    }

    /// <summary>
    /// transformers' <c>_compute_longrope_parameters</c> up to <c>original_max_position_embeddings</c> (Phi3Config's key,
    /// 4096 by default; or inside the rope parameters): the short factors, and the attention factor cos and sin are
    /// multiplied by, given or sqrt(1 + ln(factor) / ln(original)) with factor = max_position_embeddings / original.
    /// </summary>
    private static RopeScaling LongRope(JsonElement root, JsonElement p, string key, int rotaryDim, int maxPositions)
    {
        double[] Factors(string name)
        {
            double[] values = p.TryGetProperty(name, out JsonElement array) && array.ValueKind == JsonValueKind.Array
                ? [.. array.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.Number ? e.GetDouble() : double.NaN)]
                : throw new InvalidDataException($"{key} (rope_type 'longrope') lacks '{name}'.");
            return values.Length == rotaryDim / 2 && values.All(v => v > 0)
                ? values
                : throw new InvalidDataException($"{key} {name} has {values.Length} values; the rotary dimension {rotaryDim} needs {rotaryDim / 2} positive numbers.");
        }

        double[] shortFactor = Factors("short_factor");
        Factors("long_factor");
        int original = Int(p, "original_max_position_embeddings") ?? Int(root, "original_max_position_embeddings") ?? 4096;
        if (original <= 0)
        {
            throw new InvalidDataException($"original_max_position_embeddings {original} is not a positive number of positions.");
        }

        double factor = (double)maxPositions / original;
        double attention = Double(p, "attention_factor") ?? (factor <= 1 ? 1 : Math.Sqrt(1 + Math.Log(factor) / Math.Log(original)));
        return new RopeScaling("longrope", factor, OriginalMaxPositionEmbeddings: original) { ShortFactor = shortFactor, AttentionFactor = attention };
    }

    /// <summary>
    /// The sliding window and the first layer that uses it. Mistral and Phi-3 slide every layer when <c>sliding_window</c> is set;
    /// Qwen2/Qwen3 only with <c>use_sliding_window</c>, and only the layers <c>layer_types</c> marks (by default those from
    /// <c>max_window_layers</c> on, 28 unless given). A window no shorter than the context changes nothing and is dropped.
    /// </summary>
    private static (int Window, int FirstLayer) ReadSlidingWindow(JsonElement root, string modelType, int layers, int context)
    {
        int? window = Int(root, "sliding_window");
        if (modelType is not ("mistral" or "qwen2" or "qwen3" or "phi3") || window is null)
        {
            return (0, 0);
        }

        if (window <= 0)
        {
            throw new InvalidDataException($"sliding_window {window} is not a positive number of positions.");
        }

        int first = 0;
        if (modelType is not ("mistral" or "phi3"))
        {
            if (Bool(root, "use_sliding_window") != true)
            {
                return (0, 0);
            }

            first = Int(root, "max_window_layers") ?? 28;
            if (root.TryGetProperty("layer_types", out JsonElement types) && types.ValueKind == JsonValueKind.Array)
            {
                string[] kinds = [.. types.EnumerateArray().Select(t => t.GetString() ?? string.Empty)];
                first = Array.IndexOf(kinds, "sliding_attention");
                first = first < 0 ? layers : first;
                if (kinds.Length != layers || kinds.Skip(first).Any(k => k != "sliding_attention") || kinds.Take(first).Any(k => k != "full_attention"))
                {
                    throw new NotSupportedException($"layer_types [{string.Join(", ", kinds)}] is not supported; full_attention layers followed by sliding_attention layers are.");
                }
            }
        }

        return window.Value >= context || first >= layers ? (0, 0) : (window.Value, first);
    }

    /// <summary>
    /// Gemma 2 slides the even layers (<c>layer_types</c>, when given, must say so) over <c>sliding_window</c>
    /// (4096 unless given) positions; a window no shorter than the context is dropped.
    /// </summary>
    private static (int Window, int FirstLayer) ReadGemmaSlidingWindow(JsonElement root, int layers, int context)
    {
        int window = root.TryGetProperty("sliding_window", out JsonElement value) ? value.ValueKind == JsonValueKind.Number ? value.GetInt32() : 0 : 4096;
        if (window < 0)
        {
            throw new InvalidDataException($"sliding_window {window} is not a positive number of positions.");
        }

        if (root.TryGetProperty("layer_types", out JsonElement types) && types.ValueKind == JsonValueKind.Array)
        {
            string[] kinds = [.. types.EnumerateArray().Select(t => t.GetString() ?? string.Empty)];
            if (kinds.Length != layers || kinds.Where((k, i) => k != (i % 2 == 0 ? "sliding_attention" : "full_attention")).Any())
            {
                throw new NotSupportedException($"layer_types [{string.Join(", ", kinds)}] is not supported for gemma2; sliding_attention on the even layers and full_attention on the odd ones is.");
            }
        }

        return window == 0 || window >= context ? (0, 0) : (window, 0);
    }

    /// <summary>Rounds <paramref name="value"/> to a torch dtype (bfloat16, float16; anything else keeps float32).</summary>
    private static float RoundToDtype(float value, string dtype) => dtype switch
    {
        "bfloat16" => BitConverter.Int32BitsToSingle((BitConverter.SingleToInt32Bits(value) + 0x7FFF + ((BitConverter.SingleToInt32Bits(value) >> 16) & 1)) & unchecked((int)0xFFFF0000)),
        "float16" => (float)(Half)value,
        _ => value,
    };

    /// <summary>Imports <paramref name="sourceDirectory"/> into a model folder at <paramref name="outputDirectory"/>.</summary>
    public static LlamaConfig Import(string sourceDirectory, string outputDirectory, long externalDataThreshold = ModelFolder.DefaultExternalDataThreshold)
    {
        (LlamaConfig config, TokenIds tokens) = ReadConfig(sourceDirectory);
        LlamaWeights weights = ReadWeights(sourceDirectory, config);
        ModelFolder.WriteModel(outputDirectory, config, weights, $"huggingface:{Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(sourceDirectory)))}", tokens, externalDataThreshold);
        foreach (string file in CarriedFiles)
        {
            string source = Path.Combine(sourceDirectory, file);
            if (File.Exists(source))
            {
                File.Copy(source, Path.Combine(outputDirectory, file), overwrite: true);
            }
        }

        return config;
    }

    /// <summary>
    /// Reads the weights into our layout. Hugging Face rotates the halves of each head, (x[i], x[i + d/2]);
    /// the graph rotates adjacent pairs, so the rows of q_proj and k_proj, their biases and the q/k norms' weights
    /// are interleaved to match (RMSNorm does not care about the order within a head). Each tensor's size is checked
    /// against config.json, and an error names the tensor.
    /// </summary>
    public static LlamaWeights ReadWeights(string directory, LlamaConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        (IReadOnlyCollection<string> names, Func<string, float[]?> readTensor) = OpenTensors(directory);
        int dim = config.Dim, qDim = config.QueryDim, kvDim = config.KvDim, headSize = config.HeadSize;

        // Gemma 3's multimodal folders hold the decoder as language_model.model.* and language_model.lm_head (as published),
        // or model.language_model.* and lm_head (as transformers 4.52 and later save them); the vision tower stays unread.
        (string modelPrefix, string headName) = config.ModelType == Gemma3Text ? Gemma3TensorPrefixes(names) : ("model.", "lm_head.weight");
        float[] Required(string name, long length)
        {
            name = modelPrefix + name["model.".Length..];
            float[] tensor = readTensor(name) ?? throw new InvalidDataException($"The checkpoint lacks tensor '{name}'.");
            return tensor.Length == length
                ? tensor
                : throw new InvalidDataException($"Tensor '{name}' has {tensor.Length} values; config.json implies {length}.");
        }

        float[][] Layers(string suffix, long length, Func<float[], float[]>? transform = null) =>
            [.. Enumerable.Range(0, config.Layers).Select(l =>
            {
                float[] tensor = Required(string.Create(CultureInfo.InvariantCulture, $"model.layers.{l}.{suffix}"), length);
                return transform is null ? tensor : transform(tensor);
            })];
        float[][]? Optional(bool present, string suffix, long length, Func<float[], float[]>? transform = null) =>
            present ? Layers(suffix, length, transform) : null;

        float[] embedding = Required("model.embed_tokens.weight", (long)config.VocabSize * dim);
        float[]? head = config.TiedEmbeddings ? null : readTensor(headName);
        if (head is null && !config.TiedEmbeddings)
        {
            throw new InvalidDataException($"The checkpoint has no {headName} and tie_word_embeddings is false.");
        }

        // Phi-3 fuses q, k and v into qkv_proj (rows q, then k, then v) and gate and up into gate_up_proj (gate, then up).
        bool fused = config.ModelType == "phi3";

        // Gemma's RMSNorm multiplies by (1 + weight), in float32: folded into the weight here (Gemma 3's q/k norms too).
        bool sandwich = config.SandwichNorms;
        static float[] OnePlus(float[] weight) => [.. weight.Select(w => 1f + w)];
        Func<float[], float[]> headNorm = sandwich
            ? w => InterleaveRotaryRows(OnePlus(w), 1, headSize, 1, config.RotarySize)
            : w => InterleaveRotaryRows(w, 1, headSize, 1, config.RotarySize);
        int rotary = config.RotarySize;
        float[][]? qkv = fused ? Layers("self_attn.qkv_proj.weight", (long)(qDim + 2 * kvDim) * dim) : null;
        float[][]? gateUp = fused ? Layers("mlp.gate_up_proj.weight", 2L * config.HiddenDim * dim) : null;
        float[][] Part(float[][] layers, int offset, int length) => [.. layers.Select(w => w.AsSpan(offset, length).ToArray())];
        float[][] Projection(string name, long rows, float[][]? fusedLayers, long rowOffset) => fusedLayers is null
            ? Layers($"self_attn.{name}.weight", rows * dim)
            : Part(fusedLayers, (int)(rowOffset * dim), (int)(rows * dim));
        float[][] Mlp(string name, float[][]? fusedLayers, long rowOffset) => fusedLayers is null
            ? Layers($"mlp.{name}.weight", (long)config.HiddenDim * dim)
            : Part(fusedLayers, (int)(rowOffset * dim), config.HiddenDim * dim);

        var weights = new LlamaWeights
        {
            TokenEmbedding = embedding,
            AttentionNorm = Layers("input_layernorm.weight", dim, sandwich ? OnePlus : null),
            Wq = [.. Projection("q_proj", qDim, qkv, 0).Select(w => InterleaveRotaryRows(w, config.Heads, headSize, dim, rotary))],
            Wk = [.. Projection("k_proj", kvDim, qkv, qDim).Select(w => InterleaveRotaryRows(w, config.KvHeads, headSize, dim, rotary))],
            Wv = Projection("v_proj", kvDim, qkv, qDim + kvDim),
            Wo = Layers("self_attn.o_proj.weight", (long)dim * qDim),
            Bq = Optional(config.QkvBias, "self_attn.q_proj.bias", qDim, b => InterleaveRotaryRows(b, config.Heads, headSize, 1, rotary)),
            Bk = Optional(config.QkvBias, "self_attn.k_proj.bias", kvDim, b => InterleaveRotaryRows(b, config.KvHeads, headSize, 1, rotary)),
            Bv = Optional(config.QkvBias, "self_attn.v_proj.bias", kvDim),
            Bo = Optional(config.OutputBias, "self_attn.o_proj.bias", dim),
            QNorm = Optional(config.QkNorm, "self_attn.q_norm.weight", headSize, headNorm),
            KNorm = Optional(config.QkNorm, "self_attn.k_norm.weight", headSize, headNorm),
            FfnNorm = sandwich ? Layers("pre_feedforward_layernorm.weight", dim, OnePlus) : Layers("post_attention_layernorm.weight", dim),
            PostAttentionNorm = sandwich ? Layers("post_attention_layernorm.weight", dim, OnePlus) : null,
            PostFfnNorm = sandwich ? Layers("post_feedforward_layernorm.weight", dim, OnePlus) : null,
            W1 = Mlp("gate_proj", gateUp, 0),
            W2 = Layers("mlp.down_proj.weight", (long)dim * config.HiddenDim),
            W3 = Mlp("up_proj", gateUp, config.HiddenDim),
            FinalNorm = sandwich ? OnePlus(Required("model.norm.weight", dim)) : Required("model.norm.weight", dim),
            Classifier = head is null ? embedding : head,
        };
        if (head is not null && head.Length != embedding.Length)
        {
            throw new InvalidDataException($"Tensor '{headName}' has {head.Length} values; config.json implies {embedding.Length}.");
        }

        weights.Validate(config);
        return weights;
    }

    /// <summary>
    /// Per head, among the first <paramref name="rotaryDim"/> rows (all of them by default) row i goes to 2i and row
    /// i + rotaryDim/2 to 2i + 1: half rotation becomes adjacent-pair rotation. The head's later rows (partial rotary) stay.
    /// </summary>
    internal static float[] InterleaveRotaryRows(float[] weight, int heads, int headSize, int cols, int rotaryDim = 0)
    {
        float[] result = (float[])weight.Clone();
        int half = (rotaryDim > 0 ? rotaryDim : headSize) / 2;
        for (int h = 0; h < heads; h++)
        {
            for (int i = 0; i < half; i++)
            {
                Array.Copy(weight, (h * headSize + i) * cols, result, (h * headSize + 2 * i) * cols, cols);
                Array.Copy(weight, (h * headSize + i + half) * cols, result, (h * headSize + 2 * i + 1) * cols, cols);
            }
        }

        return result;
    }

    /// <summary>The names of the folder's tensors and a reader that returns null for a name it lacks.</summary>
    private static (IReadOnlyCollection<string> Names, Func<string, float[]?> Read) OpenTensors(string directory)
    {
        string single = Path.Combine(directory, "model.safetensors");
        string index = Path.Combine(directory, "model.safetensors.index.json");
        if (File.Exists(index))
        {
            using JsonDocument document = JsonDocument.Parse(File.ReadAllText(index));
            var files = new Dictionary<string, SafeTensorsFile>(StringComparer.Ordinal);
            var map = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (JsonProperty entry in document.RootElement.GetProperty("weight_map").EnumerateObject())
            {
                string file = entry.Value.GetString() ?? throw new InvalidDataException($"weight_map entry {entry.Name} has no file.");
                if (file.Contains("..", StringComparison.Ordinal) || Path.IsPathRooted(file))
                {
                    throw new InvalidDataException($"weight_map names '{file}', outside the model folder.");
                }

                map[entry.Name] = file;
            }

            return (map.Keys, name =>
            {
                if (!map.TryGetValue(name, out string? file))
                {
                    return null;
                }

                if (!files.TryGetValue(file, out SafeTensorsFile? shard))
                {
                    shard = SafeTensorsFile.Open(Path.Combine(directory, file));
                    files[file] = shard;
                }

                return shard.ReadFloat32(name);
            });
        }

        if (File.Exists(single))
        {
            SafeTensorsFile file = SafeTensorsFile.Open(single);
            return ([.. file.Tensors.Keys], name => file.Tensors.ContainsKey(name) ? file.ReadFloat32(name) : null);
        }

        throw new FileNotFoundException($"'{directory}' has neither model.safetensors nor model.safetensors.index.json.");
    }
}
