using System.Globalization;
using System.Text.Json;

namespace LlmAspire.Inference.Models.HuggingFace;

/// <summary>
/// Imports a Hugging Face Llama-family folder: <c>config.json</c>, <c>model.safetensors</c> or a sharded
/// <c>model.safetensors.index.json</c> (F32/F16/BF16), tied or separate <c>lm_head</c>, grouped-query
/// attention, <c>rope_theta</c>, <c>rms_norm_eps</c>, <c>max_position_embeddings</c>. The tokenizer files
/// (<c>tokenizer.json</c>, <c>tokenizer_config.json</c>, ...) are carried over unchanged.
/// </summary>
public static class HuggingFaceImporter
{
    /// <summary>The Hugging Face config file.</summary>
    public const string ConfigFile = "config.json";

    /// <summary>Files copied from the source folder when present.</summary>
    public static IReadOnlyList<string> CarriedFiles { get; } =
        ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "generation_config.json", "tokenizer.model"];

    private static readonly string[] SupportedModelTypes = ["llama", "mistral"];

    /// <summary>True when <paramref name="directory"/> looks like a Hugging Face model folder.</summary>
    public static bool IsHuggingFaceFolder(string directory) =>
        File.Exists(Path.Combine(directory, ConfigFile))
        && (File.Exists(Path.Combine(directory, "model.safetensors")) || File.Exists(Path.Combine(directory, "model.safetensors.index.json")));

    /// <summary>Reads config.json into a <see cref="LlamaConfig"/> and the special token ids; unsupported variants are clear errors.</summary>
    public static (LlamaConfig Config, TokenIds Tokens) ReadConfig(string directory)
    {
        string path = Path.Combine(directory, ConfigFile);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"'{directory}' has no {ConfigFile}.", path);
        }

        using JsonDocument document = JsonDocument.Parse(File.ReadAllText(path));
        JsonElement root = document.RootElement;
        string modelType = String(root, "model_type") ?? "llama";
        if (!SupportedModelTypes.Contains(modelType, StringComparer.Ordinal))
        {
            throw new NotSupportedException($"model_type '{modelType}' is not supported; Llama-family models ({string.Join(", ", SupportedModelTypes)}) are.");
        }

        int dim = Int(root, "hidden_size") ?? throw Missing("hidden_size");
        int heads = Int(root, "num_attention_heads") ?? throw Missing("num_attention_heads");
        int kvHeads = Int(root, "num_key_value_heads") ?? heads;
        int layers = Int(root, "num_hidden_layers") ?? throw Missing("num_hidden_layers");
        int hidden = Int(root, "intermediate_size") ?? throw Missing("intermediate_size");
        int vocab = Int(root, "vocab_size") ?? throw Missing("vocab_size");
        int context = Int(root, "max_position_embeddings") ?? 2048;
        float theta = Float(root, "rope_theta") ?? 10000f;
        float eps = Float(root, "rms_norm_eps") ?? 1e-6f;
        bool tied = Bool(root, "tie_word_embeddings") ?? false;

        if (dim % heads != 0 || heads % kvHeads != 0 || (dim / heads) % 2 != 0)
        {
            throw new InvalidDataException($"Inconsistent attention shape: hidden_size {dim}, num_attention_heads {heads}, num_key_value_heads {kvHeads}.");
        }

        if (Int(root, "head_dim") is int headDim && headDim != dim / heads)
        {
            throw new NotSupportedException($"head_dim {headDim} differs from hidden_size / num_attention_heads ({dim / heads}); that variant is not supported.");
        }

        if (root.TryGetProperty("rope_scaling", out JsonElement scaling) && scaling.ValueKind != JsonValueKind.Null)
        {
            throw new NotSupportedException($"rope_scaling {scaling.GetRawText()} is not supported; only plain RoPE is.");
        }

        if (Bool(root, "attention_bias") == true || Bool(root, "mlp_bias") == true)
        {
            throw new NotSupportedException("Linear layers with biases (attention_bias / mlp_bias) are not supported.");
        }

        if ((String(root, "hidden_act") ?? "silu") != "silu")
        {
            throw new NotSupportedException($"hidden_act '{String(root, "hidden_act")}' is not supported; SwiGLU (silu) is.");
        }

        if (Int(root, "sliding_window") is int window && window < context)
        {
            throw new NotSupportedException($"sliding_window {window} (shorter than the context {context}) is not supported.");
        }

        int[] eos = Ints(root, "eos_token_id") ?? [2];
        var tokens = new TokenIds(
            Ints(root, "bos_token_id")?.FirstOrDefault() ?? 1,
            eos,
            Ints(root, "pad_token_id")?.FirstOrDefault() ?? eos[0]);
        return (new LlamaConfig(dim, hidden, layers, heads, kvHeads, vocab, context, theta, eps, tied), tokens);

        static InvalidDataException Missing(string key) => new($"{ConfigFile} lacks '{key}'.");
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
    /// the graph rotates adjacent pairs, so the rows of q_proj and k_proj are interleaved to match.
    /// </summary>
    public static LlamaWeights ReadWeights(string directory, LlamaConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        Func<string, float[]?> read = OpenTensors(directory);
        float[] Required(string name) => read(name) ?? throw new InvalidDataException($"The checkpoint lacks tensor '{name}'.");
        float[][] Layers(string suffix, Func<float[], float[]>? transform = null) =>
            [.. Enumerable.Range(0, config.Layers).Select(l =>
            {
                float[] tensor = Required(string.Create(CultureInfo.InvariantCulture, $"model.layers.{l}.{suffix}"));
                return transform is null ? tensor : transform(tensor);
            })];

        float[] embedding = Required("model.embed_tokens.weight");
        float[]? head = read("lm_head.weight");
        if (head is null && !config.TiedEmbeddings)
        {
            throw new InvalidDataException("The checkpoint has no lm_head.weight and tie_word_embeddings is false.");
        }

        var weights = new LlamaWeights
        {
            TokenEmbedding = embedding,
            AttentionNorm = Layers("input_layernorm.weight"),
            Wq = Layers("self_attn.q_proj.weight", w => InterleaveRotaryRows(w, config.Heads, config.HeadSize, config.Dim)),
            Wk = Layers("self_attn.k_proj.weight", w => InterleaveRotaryRows(w, config.KvHeads, config.HeadSize, config.Dim)),
            Wv = Layers("self_attn.v_proj.weight"),
            Wo = Layers("self_attn.o_proj.weight"),
            FfnNorm = Layers("post_attention_layernorm.weight"),
            W1 = Layers("mlp.gate_proj.weight"),
            W2 = Layers("mlp.down_proj.weight"),
            W3 = Layers("mlp.up_proj.weight"),
            FinalNorm = Required("model.norm.weight"),
            Classifier = config.TiedEmbeddings || head is null ? embedding : head,
        };
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

    private static float? Float(JsonElement root, string key) =>
        root.TryGetProperty(key, out JsonElement value) && value.ValueKind == JsonValueKind.Number ? value.GetSingle() : null;

    private static bool? Bool(JsonElement root, string key) =>
        root.TryGetProperty(key, out JsonElement value) && value.ValueKind is JsonValueKind.True or JsonValueKind.False ? value.GetBoolean() : null;
}
