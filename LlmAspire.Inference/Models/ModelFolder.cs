using System.Text.Json;
using Google.Protobuf;
using LlmAspire.Inference.Tokenization;

namespace LlmAspire.Inference.Models;

/// <summary>
/// A model folder: <c>model.onnx</c> (decoder with KV cache), <c>genai_config.json</c> (ONNX Runtime GenAI's
/// config format), <c>llmaspire.json</c> (architecture details) and <c>tokenizer.bin</c>.
/// </summary>
public static class ModelFolder
{
    /// <summary>The ONNX file.</summary>
    public const string ModelFile = "model.onnx";

    /// <summary>The GenAI config file.</summary>
    public const string ConfigFile = "genai_config.json";

    /// <summary>Our architecture file.</summary>
    public const string ArchitectureFile = "llmaspire.json";

    /// <summary>The tokenizer (llama2.c format).</summary>
    public const string TokenizerFile = "tokenizer.bin";

    /// <summary>Builds the ONNX graph and writes the whole folder.</summary>
    public static void Write(string directory, LlamaConfig config, LlamaWeights weights, SentencePieceBpeTokenizer tokenizer, string source)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(tokenizer);
        if (tokenizer.VocabularySize != config.VocabSize)
        {
            throw new InvalidDataException($"The tokenizer has {tokenizer.VocabularySize} tokens, the model {config.VocabSize}.");
        }

        Directory.CreateDirectory(directory);
        var model = LlamaOnnxBuilder.Build(config, weights);
        using (FileStream stream = File.Create(Path.Combine(directory, ModelFile)))
        {
            model.WriteTo(stream);
        }

        var genai = new GenAiConfig
        {
            Model = new GenAiModel
            {
                BosTokenId = tokenizer.BosId,
                EosTokenId = tokenizer.EosId,
                PadTokenId = tokenizer.UnkId,
                ContextLength = config.ContextLength,
                VocabSize = config.VocabSize,
                Decoder = new GenAiDecoder
                {
                    HeadSize = config.AttentionHeadSize,
                    HiddenSize = config.Dim,
                    NumAttentionHeads = config.Heads,
                    NumHiddenLayers = config.Layers,
                    NumKeyValueHeads = config.KvHeads,
                },
            },
            Search = new GenAiSearch { MaxLength = config.ContextLength },
        };
        File.WriteAllText(Path.Combine(directory, ConfigFile), JsonSerializer.Serialize(genai, ModelJsonContext.Default.GenAiConfig));
        var architecture = new ModelArchitecture
        {
            IntermediateSize = config.HiddenDim,
            RopeTheta = config.RopeTheta,
            RmsNormEps = config.NormEpsilon,
            TieWordEmbeddings = config.TiedEmbeddings,
            Source = source,
        };
        File.WriteAllText(Path.Combine(directory, ArchitectureFile), JsonSerializer.Serialize(architecture, ModelJsonContext.Default.ModelArchitecture));
        tokenizer.WriteLlama2c(Path.Combine(directory, TokenizerFile));
    }

    /// <summary>Reads the folder's configuration and tokenizer (not the graph).</summary>
    public static (LlamaConfig Config, SentencePieceBpeTokenizer Tokenizer) Read(string directory)
    {
        if (!Directory.Exists(directory))
        {
            throw new DirectoryNotFoundException($"Model folder '{directory}' does not exist.");
        }

        foreach (string file in new[] { ModelFile, ConfigFile, ArchitectureFile, TokenizerFile })
        {
            if (!File.Exists(Path.Combine(directory, file)))
            {
                throw new FileNotFoundException($"Model folder '{directory}' has no {file}; convert a checkpoint with 'llmaspire model convert'.", file);
            }
        }

        GenAiConfig genai = JsonSerializer.Deserialize(File.ReadAllText(Path.Combine(directory, ConfigFile)), ModelJsonContext.Default.GenAiConfig)
            ?? throw new InvalidDataException($"{ConfigFile} is empty.");
        ModelArchitecture architecture = JsonSerializer.Deserialize(File.ReadAllText(Path.Combine(directory, ArchitectureFile)), ModelJsonContext.Default.ModelArchitecture)
            ?? throw new InvalidDataException($"{ArchitectureFile} is empty.");
        GenAiDecoder d = genai.Model.Decoder;
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
            architecture.TieWordEmbeddings);
        var tokenizer = SentencePieceBpeTokenizer.ReadLlama2c(Path.Combine(directory, TokenizerFile), config.VocabSize);
        return (config, tokenizer);
    }
}
