using System.Globalization;
using System.Text.Json;

namespace LlmAspire.Inference.Models.HuggingFace;

/// <summary>
/// Imports a Hugging Face Llama-family folder: <c>config.json</c>, <c>model.safetensors</c> or a sharded
/// <c>model.safetensors.index.json</c> (F32/F16/BF16), tied or separate <c>lm_head</c>, grouped-query
/// attention, <c>rope_theta</c>, <c>rms_norm_eps</c>, <c>max_position_embeddings</c>. The model types are
/// <c>llama</c> (with Llama 3.1's <c>llama3</c>, <c>linear</c> or <c>dynamic</c> <c>rope_scaling</c>, <c>attention_bias</c>),
/// <c>mistral</c> (its <c>sliding_window</c>), <c>qwen2</c> (q/k/v biases, <c>use_sliding_window</c>) and <c>qwen3</c>
/// (per-head q/k RMSNorm, explicit <c>head_dim</c>). The tokenizer files (<c>tokenizer.json</c>,
/// <c>tokenizer_config.json</c>, ...) are carried over unchanged. Every check runs, and every tensor is read,
/// before the first output file is written.
/// </summary>
public static class HuggingFaceImporter
{
    /// <summary>The Hugging Face config file.</summary>
    public const string ConfigFile = "config.json";

    /// <summary>Files copied from the source folder when present.</summary>
    public static IReadOnlyList<string> CarriedFiles { get; } =
        ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "generation_config.json", "tokenizer.model"];

    /// <summary>The <c>model_type</c>s that import.</summary>
    public static IReadOnlyList<string> SupportedModelTypes { get; } = ["llama", "mistral", "qwen2", "qwen3"];

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

        int dim = Int(root, "hidden_size") ?? throw Missing("hidden_size");
        int heads = Int(root, "num_attention_heads") ?? throw Missing("num_attention_heads");
        int kvHeads = Int(root, "num_key_value_heads") ?? heads;
        int layers = Int(root, "num_hidden_layers") ?? throw Missing("num_hidden_layers");
        int hidden = Int(root, "intermediate_size") ?? throw Missing("intermediate_size");
        int vocab = Int(root, "vocab_size") ?? throw Missing("vocab_size");
        int context = Int(root, "max_position_embeddings") ?? 2048;
        float eps = Float(root, "rms_norm_eps") ?? 1e-6f;
        bool tied = Bool(root, "tie_word_embeddings") ?? false;

        // transformers' Qwen3Config defaults head_dim to 128; the others to hidden_size / num_attention_heads.
        int headDim = Int(root, "head_dim") ?? (modelType == "qwen3" ? 128 : 0);
        int headSize = headDim > 0 ? headDim : dim / heads;
        if (heads <= 0 || kvHeads <= 0 || heads % kvHeads != 0 || headSize % 2 != 0 || (headDim == 0 && dim % heads != 0))
        {
            throw new InvalidDataException($"Inconsistent attention shape: hidden_size {dim}, num_attention_heads {heads}, num_key_value_heads {kvHeads}, head_dim {headSize}.");
        }

        if (Float(root, "partial_rotary_factor") is float partial && partial != 1f)
        {
            throw new NotSupportedException($"partial_rotary_factor {partial} is not supported; the rotary embedding covers whole heads.");
        }

        (float theta, RopeScaling? scaling) = ReadRope(root);
        if (scaling is { Type: "dynamic" })
        {
            // Dynamic NTK rescales the base once a sequence outgrows this length, which a fixed cos/sin cache cannot follow: the context stops there.
            int plain = scaling.OriginalMaxPositionEmbeddings > 0 ? Math.Min(scaling.OriginalMaxPositionEmbeddings, context) : context;
            scaling = scaling with { OriginalMaxPositionEmbeddings = plain };
            context = plain;
        }

        if (Bool(root, "mlp_bias") == true)
        {
            throw new NotSupportedException("mlp_bias (biases in gate_proj, up_proj and down_proj) is not supported.");
        }

        if ((String(root, "hidden_act") ?? "silu") != "silu")
        {
            throw new NotSupportedException($"hidden_act '{String(root, "hidden_act")}' is not supported; SwiGLU (silu) is.");
        }

        // transformers: Llama and Qwen3 put attention_bias on q, k, v and o; Qwen2 always has q/k/v biases and no o bias; Mistral none.
        bool attentionBias = modelType is "llama" or "qwen3" && (Bool(root, "attention_bias") ?? false);
        (int window, int firstSliding) = ReadSlidingWindow(root, modelType, layers, context);

        int[] eos = Ints(root, "eos_token_id") ?? [2];
        var tokens = new TokenIds(
            Ints(root, "bos_token_id")?.FirstOrDefault() ?? 1,
            eos,
            Ints(root, "pad_token_id")?.FirstOrDefault() ?? eos[0]);
        var config = new LlamaConfig(dim, hidden, layers, heads, kvHeads, vocab, context, theta, eps, tied)
        {
            ModelType = modelType,
            HeadDim = headDim > 0 && headDim != dim / heads ? headDim : 0,
            RopeScaling = scaling,
            SlidingWindow = window,
            FirstSlidingLayer = firstSliding,
            QkvBias = attentionBias || modelType == "qwen2",
            OutputBias = attentionBias,
            QkNorm = modelType == "qwen3",
        };
        return (config, tokens);

        static InvalidDataException Missing(string key) => new($"{ConfigFile} lacks '{key}'.");
    }

    /// <summary>
    /// rope_theta and the scaling, from <c>rope_scaling</c> (transformers 4) or <c>rope_parameters</c> (transformers 5);
    /// <c>type</c> is the old name of <c>rope_type</c>, and <c>default</c> is plain RoPE.
    /// </summary>
    private static (float Theta, RopeScaling? Scaling) ReadRope(JsonElement root)
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
        if (parameters is not { } p)
        {
            return (theta, null);
        }

        string type = String(p, "rope_type") ?? String(p, "type") ?? "default";
        double Number(string name) =>
            Double(p, name) ?? throw new InvalidDataException($"{key} (rope_type '{type}') lacks '{name}'.");
        return type switch
        {
            "default" => (theta, null),
            "linear" => (theta, new RopeScaling(type, Number("factor"))),
            "dynamic" => (theta, new RopeScaling(type, Number("factor"), OriginalMaxPositionEmbeddings: (int)(Double(p, "original_max_position_embeddings") ?? 0))),
            "llama3" => (theta, new RopeScaling(
                type, Number("factor"), Number("low_freq_factor"), Number("high_freq_factor"), (int)Number("original_max_position_embeddings"))),
            _ => throw new NotSupportedException(
                $"{key} rope_type '{type}' is not supported; {string.Join(", ", RopeScaling.SupportedTypes)} are (plus plain RoPE)."),
        };
    }

    /// <summary>
    /// The sliding window and the first layer that uses it. Mistral slides every layer when <c>sliding_window</c> is set;
    /// Qwen2/Qwen3 only with <c>use_sliding_window</c>, and only the layers <c>layer_types</c> marks (by default those from
    /// <c>max_window_layers</c> on, 28 unless given). A window no shorter than the context changes nothing and is dropped.
    /// </summary>
    private static (int Window, int FirstLayer) ReadSlidingWindow(JsonElement root, string modelType, int layers, int context)
    {
        int? window = Int(root, "sliding_window");
        if (modelType is not ("mistral" or "qwen2" or "qwen3") || window is null)
        {
            return (0, 0);
        }

        if (window <= 0)
        {
            throw new InvalidDataException($"sliding_window {window} is not a positive number of positions.");
        }

        int first = 0;
        if (modelType != "mistral")
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
        Func<string, float[]?> read = OpenTensors(directory);
        int dim = config.Dim, qDim = config.QueryDim, kvDim = config.KvDim, headSize = config.HeadSize;
        float[] Required(string name, long length)
        {
            float[] tensor = read(name) ?? throw new InvalidDataException($"The checkpoint lacks tensor '{name}'.");
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
        float[]? head = config.TiedEmbeddings ? null : read("lm_head.weight");
        if (head is null && !config.TiedEmbeddings)
        {
            throw new InvalidDataException("The checkpoint has no lm_head.weight and tie_word_embeddings is false.");
        }

        var weights = new LlamaWeights
        {
            TokenEmbedding = embedding,
            AttentionNorm = Layers("input_layernorm.weight", dim),
            Wq = Layers("self_attn.q_proj.weight", (long)qDim * dim, w => InterleaveRotaryRows(w, config.Heads, headSize, dim)),
            Wk = Layers("self_attn.k_proj.weight", (long)kvDim * dim, w => InterleaveRotaryRows(w, config.KvHeads, headSize, dim)),
            Wv = Layers("self_attn.v_proj.weight", (long)kvDim * dim),
            Wo = Layers("self_attn.o_proj.weight", (long)dim * qDim),
            Bq = Optional(config.QkvBias, "self_attn.q_proj.bias", qDim, b => InterleaveRotaryRows(b, config.Heads, headSize, 1)),
            Bk = Optional(config.QkvBias, "self_attn.k_proj.bias", kvDim, b => InterleaveRotaryRows(b, config.KvHeads, headSize, 1)),
            Bv = Optional(config.QkvBias, "self_attn.v_proj.bias", kvDim),
            Bo = Optional(config.OutputBias, "self_attn.o_proj.bias", dim),
            QNorm = Optional(config.QkNorm, "self_attn.q_norm.weight", headSize, w => InterleaveRotaryRows(w, 1, headSize, 1)),
            KNorm = Optional(config.QkNorm, "self_attn.k_norm.weight", headSize, w => InterleaveRotaryRows(w, 1, headSize, 1)),
            FfnNorm = Layers("post_attention_layernorm.weight", dim),
            W1 = Layers("mlp.gate_proj.weight", (long)config.HiddenDim * dim),
            W2 = Layers("mlp.down_proj.weight", (long)dim * config.HiddenDim),
            W3 = Layers("mlp.up_proj.weight", (long)config.HiddenDim * dim),
            FinalNorm = Required("model.norm.weight", dim),
            Classifier = head is null ? embedding : head,
        };
        if (head is not null && head.Length != embedding.Length)
        {
            throw new InvalidDataException($"Tensor 'lm_head.weight' has {head.Length} values; config.json implies {embedding.Length}.");
        }

        weights.Validate(config);
        return weights;
    }

    /// <summary>Per head, row i goes to 2i and row i + d/2 to 2i + 1: half rotation becomes adjacent-pair rotation.</summary>
    internal static float[] InterleaveRotaryRows(float[] weight, int heads, int headSize, int cols)
    {
        float[] result = new float[weight.Length];
        int half = headSize / 2;
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

    private static Func<string, float[]?> OpenTensors(string directory)
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

            return name =>
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
            };
        }

        if (File.Exists(single))
        {
            SafeTensorsFile file = SafeTensorsFile.Open(single);
            return name => file.Tensors.ContainsKey(name) ? file.ReadFloat32(name) : null;
        }

        throw new FileNotFoundException($"'{directory}' has neither model.safetensors nor model.safetensors.index.json.");
    }

    private static string? String(JsonElement root, string key) =>
        root.TryGetProperty(key, out JsonElement value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static int? Int(JsonElement root, string key) =>
        root.TryGetProperty(key, out JsonElement value) && value.ValueKind == JsonValueKind.Number ? value.GetInt32() : null;

    private static int[]? Ints(JsonElement root, string key)
    {
        if (!root.TryGetProperty(key, out JsonElement value))
        {
            return null;
        }

        return value.ValueKind switch
        {
            JsonValueKind.Number => [value.GetInt32()],
            JsonValueKind.Array when value.GetArrayLength() > 0 => [.. value.EnumerateArray().Select(e => e.GetInt32())],
            _ => null,
        };
    }

    private static double? Double(JsonElement root, string key) =>
        root.TryGetProperty(key, out JsonElement value) && value.ValueKind == JsonValueKind.Number ? value.GetDouble() : null;

    private static float? Float(JsonElement root, string key) =>
        root.TryGetProperty(key, out JsonElement value) && value.ValueKind == JsonValueKind.Number ? value.GetSingle() : null;

    private static bool? Bool(JsonElement root, string key) =>
        root.TryGetProperty(key, out JsonElement value) && value.ValueKind is JsonValueKind.True or JsonValueKind.False ? value.GetBoolean() : null;
}
