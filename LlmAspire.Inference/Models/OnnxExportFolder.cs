using System.Text.Json;
using static LlmAspire.Inference.Models.ConfigJson;

namespace LlmAspire.Inference.Models;

/// <summary>
/// A decoder exported to ONNX without <c>genai_config.json</c>, as Hugging Face Optimum and the <c>onnx-community</c>
/// repositories publish them: <c>model.onnx</c> (or <c>onnx/model.onnx</c>) taking <c>input_ids</c>,
/// <c>attention_mask</c>, <c>position_ids</c> and <c>past_key_values.N.key/value</c> and returning <c>logits</c> and
/// <c>present.N.key/value</c>, beside the transformers <c>config.json</c> and <c>tokenizer.json</c>. Only the shape is
/// read from config.json (the graph holds everything else), so any <c>model_type</c> with these keys loads.
/// </summary>
public static class OnnxExportFolder
{
    /// <summary>The transformers config file.</summary>
    public const string ConfigFile = "config.json";

    /// <summary>Where exports put the decoder, in the order looked at.</summary>
    public static IReadOnlyList<string> DecoderFiles { get; } = ["model.onnx", "onnx/model.onnx", "decoder_model.onnx", "onnx/decoder_model.onnx"];

    /// <summary>The decoder file of <paramref name="directory"/> relative to it, or null when it holds none of <see cref="DecoderFiles"/>.</summary>
    public static string? FindDecoder(string directory) =>
        DecoderFiles.FirstOrDefault(file => File.Exists(Path.Combine(directory, file)));

    /// <summary>True when <paramref name="directory"/> holds config.json and an ONNX decoder but no genai_config.json.</summary>
    public static bool IsExportFolder(string directory) =>
        !File.Exists(Path.Combine(directory, ModelFolder.ConfigFile))
        && File.Exists(Path.Combine(directory, ConfigFile))
        && FindDecoder(directory) is not null;

    /// <summary>
    /// Reads config.json (and generation_config.json's token ids when present) into the model shape and the
    /// <c>genai_config.json</c> it would have: Optimum's IO names, the decoder file, bos/eos, context and vocabulary.
    /// </summary>
    public static (LlamaConfig Config, GenAiConfig GenAi) ReadConfig(string directory)
    {
        string decoder = FindDecoder(directory)
            ?? throw new FileNotFoundException($"Model folder '{directory}' has no ONNX decoder ({string.Join(", ", DecoderFiles)}).", DecoderFiles[0]);
        using JsonDocument config = Parse(Path.Combine(directory, ConfigFile));
        JsonElement root = config.RootElement;
        string modelType = String(root, "model_type") ?? "unknown";
        int layers = Int(root, "num_hidden_layers") ?? throw Missing("num_hidden_layers");
        int heads = Int(root, "num_attention_heads") ?? throw Missing("num_attention_heads");
        int kvHeads = Int(root, "num_key_value_heads") ?? heads;
        int hidden = Int(root, "hidden_size") ?? throw Missing("hidden_size");
        int headDim = Int(root, "head_dim") ?? 0;
        int vocab = Int(root, "vocab_size") ?? throw Missing("vocab_size");
        int context = Int(root, "max_position_embeddings") ?? Int(root, "n_positions") ?? throw Missing("max_position_embeddings");
        if (layers <= 0 || heads <= 0 || kvHeads <= 0 || hidden <= 0 || vocab <= 0 || context <= 0 || (headDim == 0 && hidden % heads != 0))
        {
            throw new InvalidDataException(
                $"{ConfigFile} in '{directory}' has an inconsistent shape: num_hidden_layers {layers}, num_attention_heads {heads}, num_key_value_heads {kvHeads}, hidden_size {hidden}, head_dim {headDim}, vocab_size {vocab}, max_position_embeddings {context}.");
        }

        int[]? eos = Ints(root, "eos_token_id");
        int? bos = Ints(root, "bos_token_id") is [int b, ..] ? b : null;
        int? pad = Ints(root, "pad_token_id") is [int p, ..] ? p : null;
        string generationPath = Path.Combine(directory, "generation_config.json");
        if (File.Exists(generationPath))
        {
            // transformers generates with generation_config.json's ids when it has them.
            using JsonDocument generation = Parse(generationPath);
            eos = Ints(generation.RootElement, "eos_token_id") ?? eos;
            bos = Ints(generation.RootElement, "bos_token_id") is [int gb, ..] ? gb : bos;
        }

        var shape = new LlamaConfig(
            hidden,
            Int(root, "intermediate_size") ?? 0,
            layers,
            heads,
            kvHeads,
            vocab,
            context,
            (float)(Double(root, "rope_theta") ?? 10000),
            (float)(Double(root, "rms_norm_eps") ?? 1e-5),
            Bool(root, "tie_word_embeddings") ?? false)
        {
            ModelType = modelType,
            HeadDim = headDim,
        };
        var genai = new GenAiConfig
        {
            Model = new GenAiModel
            {
                BosTokenId = bos,
                EosTokenId = eos,
                PadTokenId = pad,
                ContextLength = context,
                VocabSize = vocab,
                Type = modelType,
                Decoder = new GenAiDecoder
                {
                    Filename = decoder,
                    HeadSize = shape.HeadSize,
                    HiddenSize = hidden,
                    NumAttentionHeads = heads,
                    NumHiddenLayers = layers,
                    NumKeyValueHeads = kvHeads,
                },
            },
            Search = new GenAiSearch { MaxLength = context },
        };
        return (shape, genai);
    }

    private static JsonDocument Parse(string path)
    {
        try
        {
            return JsonDocument.Parse(File.ReadAllText(path));
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"'{path}' is not valid JSON: {ex.Message}", ex);
        }
    }

    private static InvalidDataException Missing(string key) =>
        new($"{ConfigFile} lacks '{key}', which an ONNX export without genai_config.json needs for its KV cache shape.");
}
