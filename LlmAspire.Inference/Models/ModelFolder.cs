using System.Text.Json;
using Google.Protobuf;
using LlmAspire.Inference.Tokenization;
using Onnx;

namespace LlmAspire.Inference.Models;

/// <summary>
/// A model folder in ONNX Runtime GenAI's layout: <c>model.onnx</c> (decoder with KV cache; weights in
/// <c>model.onnx.data</c> beside it when large), <c>genai_config.json</c>, and the tokenizer. We add
/// <c>llmaspire.json</c> (what the graph was built from); folders without it, such as those GenAI's model
/// builder writes, load too.
/// </summary>
public static class ModelFolder
{
    /// <summary>The ONNX file.</summary>
    public const string ModelFile = "model.onnx";

    /// <summary>External weights of <see cref="ModelFile"/>, when written.</summary>
    public const string ExternalDataFile = "model.onnx.data";

    /// <summary>The GenAI config file.</summary>
    public const string ConfigFile = "genai_config.json";

    /// <summary>Our architecture file (optional when reading).</summary>
    public const string ArchitectureFile = "llmaspire.json";

    /// <summary>A llama2.c tokenizer, read only when there is no tokenizer.json (folders from before tokenizer.json).</summary>
    public const string TokenizerFile = "tokenizer.bin";

    /// <summary>Weights beyond this size go to <see cref="ExternalDataFile"/> (protobuf caps a message at 2 GiB).</summary>
    public const long DefaultExternalDataThreshold = 1L << 30;

    /// <summary>
    /// Builds the ONNX graph and writes the whole folder, tokenizer included; <paramref name="fuseProjections"/> as
    /// <see cref="LlamaOnnxBuilder.Build"/> takes it (false only to measure what fusing the projections is worth).
    /// </summary>
    public static void Write(string directory, LlamaConfig config, LlamaWeights weights, SentencePieceBpeTokenizer tokenizer, string source, bool fuseProjections = true)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        if (tokenizer.VocabularySize != config.VocabSize)
        {
            throw new InvalidDataException($"The tokenizer has {tokenizer.VocabularySize} tokens, the model {config.VocabSize}.");
        }

        WriteModel(directory, config, weights, source, new TokenIds(tokenizer.BosId, [tokenizer.EosId], tokenizer.UnkId), fuseProjections: fuseProjections);
        TokenizerJsonWriter.Write(tokenizer, directory, config.ContextLength);
    }

    /// <summary>Writes model.onnx, genai_config.json and llmaspire.json (not the tokenizer); <paramref name="fuseProjections"/> as <see cref="LlamaOnnxBuilder.Build"/> takes it.</summary>
    public static void WriteModel(string directory, LlamaConfig config, LlamaWeights weights, string source, TokenIds tokens, long externalDataThreshold = DefaultExternalDataThreshold, bool fuseProjections = true)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(tokens);
        ModelProto model = LlamaOnnxBuilder.Build(config, weights, fuseProjections);
        Directory.CreateDirectory(directory);
        WriteOnnx(model, Path.Combine(directory, ModelFile), externalDataThreshold);

        GenAiConfig genai = CreateGenAiConfig(config, tokens, config.AttentionHeadSize, config.KvHeads);
        File.WriteAllText(Path.Combine(directory, ConfigFile), JsonSerializer.Serialize(genai, ModelJsonContext.Default.GenAiConfig));
        var architecture = new ModelArchitecture
        {
            IntermediateSize = config.HiddenDim,
            RopeTheta = config.RopeTheta,
            RmsNormEps = config.NormEpsilon,
            TieWordEmbeddings = config.TiedEmbeddings,
            ModelType = config.ModelType == "llama" ? null : config.ModelType,
            HeadDim = config.HeadDim > 0 ? config.HeadDim : null,
            RotaryDim = config.RotaryDim > 0 ? config.RotaryDim : null,
            RopeScaling = config.RopeScaling,
            SlidingWindow = config.SlidingWindow > 0 ? config.SlidingWindow : null,
            FirstSlidingLayer = config.SlidingWindow > 0 ? config.FirstSlidingLayer : null,
            QkvBias = config.QkvBias ? true : null,
            OutputBias = config.OutputBias ? true : null,
            QkNorm = config.QkNorm ? true : null,
            HiddenAct = config.HiddenAct == "silu" ? null : config.HiddenAct,
            SandwichNorms = config.SandwichNorms ? true : null,
            EmbeddingMultiplier = config.EmbeddingMultiplier != 0 ? config.EmbeddingMultiplier : null,
            QueryPreAttnScalar = config.QueryPreAttnScalar != 0 ? config.QueryPreAttnScalar : null,
            AttentionSoftcap = config.AttentionSoftcap != 0 ? config.AttentionSoftcap : null,
            FinalLogitSoftcap = config.FinalLogitSoftcap != 0 ? config.FinalLogitSoftcap : null,
            AlternatingSlidingWindow = config.AlternatingSlidingWindow ? true : null,
            SlidingWindowPattern = config.SlidingWindowPattern > 0 ? config.SlidingWindowPattern : null,
            LocalRopeTheta = config.LocalRopeTheta > 0 ? config.LocalRopeTheta : null,
            Source = source,
        };
        File.WriteAllText(Path.Combine(directory, ArchitectureFile), JsonSerializer.Serialize(architecture, ModelJsonContext.Default.ModelArchitecture));
    }

    /// <summary>
    /// The genai_config.json of a decoder of shape <paramref name="config"/> whose KV cache tensors have
    /// <paramref name="cacheHeads"/> heads of <paramref name="cacheHeadSize"/>, with GenAI's default IO names.
    /// </summary>
    internal static GenAiConfig CreateGenAiConfig(LlamaConfig config, TokenIds tokens, int cacheHeadSize, int cacheHeads) => new()
    {
        Model = new GenAiModel
        {
            BosTokenId = tokens.Bos,
            EosTokenId = [.. tokens.Eos],
            PadTokenId = tokens.Pad,
            ContextLength = config.ContextLength,
            VocabSize = config.VocabSize,
            Type = config.ModelType,
            Decoder = new GenAiDecoder
            {
                HeadSize = cacheHeadSize,
                HiddenSize = config.Dim,
                NumAttentionHeads = config.Heads,
                NumHiddenLayers = config.Layers,
                NumKeyValueHeads = cacheHeads,
            },
        },
        Search = new GenAiSearch { MaxLength = config.ContextLength },
    };

    /// <summary>
    /// Writes <paramref name="model"/> to <paramref name="path"/>; when its weights exceed <paramref name="externalDataThreshold"/>
    /// bytes, every initializer of 1 KiB or more goes to <c>{file}.data</c> beside it (ONNX external data).
    /// </summary>
    public static void WriteOnnx(ModelProto model, string path, long externalDataThreshold = DefaultExternalDataThreshold)
    {
        ArgumentNullException.ThrowIfNull(model);
        string dataFile = Path.GetFileName(path) + ".data";
        string dataPath = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, dataFile);
        long total = model.Graph.Initializer.Sum(t => (long)t.RawData.Length);
        if (total > externalDataThreshold)
        {
            using FileStream data = File.Create(dataPath);
            foreach (TensorProto tensor in model.Graph.Initializer.Where(t => t.RawData.Length >= 1024))
            {
                long offset = data.Position;
                tensor.RawData.WriteTo(data);
                tensor.DataLocation = TensorProto.Types.DataLocation.External;
                tensor.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = dataFile });
                tensor.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = offset.ToString(System.Globalization.CultureInfo.InvariantCulture) });
                tensor.ExternalData.Add(new StringStringEntryProto { Key = "length", Value = tensor.RawData.Length.ToString(System.Globalization.CultureInfo.InvariantCulture) });
                tensor.RawData = ByteString.Empty;
            }
        }
        else if (File.Exists(dataPath))
        {
            File.Delete(dataPath);
        }

        using FileStream stream = File.Create(path);
        model.WriteTo(stream);
    }

    /// <summary>Reads the folder's configuration: genai_config.json, and llmaspire.json when present.</summary>
    public static (LlamaConfig Config, GenAiConfig GenAi) ReadConfig(string directory)
    {
        if (!Directory.Exists(directory))
        {
            throw new DirectoryNotFoundException($"Model folder '{directory}' does not exist.");
        }

        if (!File.Exists(Path.Combine(directory, ConfigFile)))
        {
            // An Optimum / onnx-community export: config.json and the decoder, no genai_config.json.
            if (OnnxExportFolder.IsExportFolder(directory))
            {
                return OnnxExportFolder.ReadConfig(directory);
            }

            throw new FileNotFoundException(
                $"Model folder '{directory}' has no {ConfigFile} (nor {OnnxExportFolder.ConfigFile} with model.onnx, as an ONNX export has); convert a checkpoint with 'llmaspire model convert'.",
                ConfigFile);
        }

        GenAiConfig genai;
        try
        {
            genai = JsonSerializer.Deserialize(File.ReadAllText(Path.Combine(directory, ConfigFile)), ModelJsonContext.Default.GenAiConfig)
                ?? throw new InvalidDataException($"{ConfigFile} is empty.");
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{ConfigFile} in '{directory}' is not valid: {ex.Message}", ex);
        }

        string architecturePath = Path.Combine(directory, ArchitectureFile);
        ModelArchitecture architecture = File.Exists(architecturePath)
            ? JsonSerializer.Deserialize(File.ReadAllText(architecturePath), ModelJsonContext.Default.ModelArchitecture) ?? new ModelArchitecture()
            : new ModelArchitecture { RopeTheta = 10000f, RmsNormEps = 1e-5f };
        GenAiDecoder d = genai.Model.Decoder;
        if (string.IsNullOrEmpty(d.Filename) || d.Filename.Contains("..", StringComparison.Ordinal) || Path.IsPathRooted(d.Filename)
            || !File.Exists(Path.Combine(directory, d.Filename)))
        {
            throw new FileNotFoundException($"Model folder '{directory}' has no decoder graph '{d.Filename}' (genai_config.json's model.decoder.filename).", d.Filename);
        }

        if (d.NumHiddenLayers <= 0 || d.NumAttentionHeads <= 0 || d.NumKeyValueHeads <= 0 || genai.Model.VocabSize <= 0 || genai.Model.ContextLength <= 0)
        {
            throw new InvalidDataException($"{ConfigFile} in '{directory}' lacks the decoder's shape (layers, heads, key/value heads, vocab_size, context_length).");
        }

        var config = new LlamaConfig(
            d.HiddenSize,
            architecture.IntermediateSize,
            d.NumHiddenLayers,
            d.NumAttentionHeads,
            d.NumKeyValueHeads,
            genai.Model.VocabSize,
            genai.Model.ContextLength,
            architecture.RopeTheta,
            architecture.RmsNormEps,
            architecture.TieWordEmbeddings)
        {
            ModelType = architecture.ModelType ?? "llama",
            HeadDim = architecture.HeadDim ?? 0,
            RotaryDim = architecture.RotaryDim ?? 0,
            RopeScaling = architecture.RopeScaling,
            SlidingWindow = architecture.SlidingWindow ?? 0,
            FirstSlidingLayer = architecture.FirstSlidingLayer ?? 0,
            QkvBias = architecture.QkvBias ?? false,
            OutputBias = architecture.OutputBias ?? false,
            QkNorm = architecture.QkNorm ?? false,
            HiddenAct = architecture.HiddenAct ?? "silu",
            SandwichNorms = architecture.SandwichNorms ?? false,
            EmbeddingMultiplier = architecture.EmbeddingMultiplier ?? 0,
            QueryPreAttnScalar = architecture.QueryPreAttnScalar ?? 0,
            AttentionSoftcap = architecture.AttentionSoftcap ?? 0,
            FinalLogitSoftcap = architecture.FinalLogitSoftcap ?? 0,
            AlternatingSlidingWindow = architecture.AlternatingSlidingWindow ?? false,
            SlidingWindowPattern = architecture.SlidingWindowPattern ?? 0,
            LocalRopeTheta = architecture.LocalRopeTheta ?? 0,
        };
        return (config, genai);
    }

    /// <summary>Loads the folder's tokenizer: tokenizer.json (+ tokenizer_config.json), else a llama2.c tokenizer.bin.</summary>
    public static ITokenizer ReadTokenizer(string directory, GenAiConfig genai)
    {
        ArgumentNullException.ThrowIfNull(genai);
        if (TokenizerJson.Exists(directory))
        {
            return TokenizerJson.Load(directory, genai.Model.BosTokenId, genai.Model.EosTokenId is { Length: > 0 } eos ? eos[0] : null);
        }

        string bin = Path.Combine(directory, TokenizerFile);
        if (File.Exists(bin))
        {
            return SentencePieceBpeTokenizer.ReadLlama2c(bin, genai.Model.VocabSize);
        }

        throw new FileNotFoundException($"Model folder '{directory}' has no tokenizer (tokenizer.json or {TokenizerFile}).", TokenizerJson.FileName);
    }
}

/// <summary>Special token ids recorded in genai_config.json.</summary>
/// <param name="Bos">Beginning of sequence.</param>
/// <param name="Eos">End of sequence (some models have several, e.g. Llama 3's end of text and end of turn).</param>
/// <param name="Pad">Padding.</param>
public sealed record TokenIds(int Bos, IReadOnlyList<int> Eos, int Pad);
