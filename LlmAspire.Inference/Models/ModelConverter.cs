using LlmAspire.Inference.Models.Gguf;
using LlmAspire.Inference.Models.HuggingFace;
using LlmAspire.Inference.Tokenization;

namespace LlmAspire.Inference.Models;

/// <summary>Converts checkpoints into model folders.</summary>
public static class ModelConverter
{
    /// <summary>Converts a llama2.c checkpoint and tokenizer.bin into a model folder at <paramref name="outputDirectory"/>.</summary>
    public static LlamaConfig ConvertLlama2c(string checkpointPath, string tokenizerPath, string outputDirectory)
    {
        (LlamaConfig config, LlamaWeights weights) = Llama2cCheckpoint.Read(checkpointPath);
        var tokenizer = SentencePieceBpeTokenizer.ReadLlama2c(tokenizerPath, config.VocabSize);
        ModelFolder.Write(outputDirectory, config, weights, tokenizer, $"llama2.c:{Path.GetFileName(checkpointPath)}");
        return config;
    }

    /// <summary>
    /// Imports a Hugging Face Llama-family folder (config.json + safetensors, tokenizer files carried over)
    /// into a model folder at <paramref name="outputDirectory"/>.
    /// </summary>
    public static LlamaConfig ImportHuggingFace(string sourceDirectory, string outputDirectory) =>
        HuggingFaceImporter.Import(sourceDirectory, outputDirectory);

    /// <summary>
    /// Imports a GGUF file (llama.cpp's format: llama, qwen2, qwen3, phi3, gemma2; F32/F16/BF16 and the common
    /// quantizations dequantized to float32) into a model folder at <paramref name="outputDirectory"/>.
    /// </summary>
    public static LlamaConfig ImportGguf(string path, string outputDirectory) =>
        GgufImporter.Import(path, outputDirectory);

    /// <summary>
    /// Imports the GGUF file <paramref name="path"/> and requantizes its linear layers to MatMulNBits at the width
    /// <paramref name="bits"/> picks from the type that holds most of them (null: keep float32).
    /// </summary>
    public static LlamaConfig ImportGguf(string path, string outputDirectory, Func<GgmlType?, int?> bits)
    {
        ArgumentNullException.ThrowIfNull(bits);
        int? width;
        using (GgufFile header = GgufFile.Open(path))
        {
            width = bits(GgufImporter.DominantLinearType(header));
        }

        if (width is null)
        {
            return GgufImporter.Import(path, outputDirectory);
        }

        string staging = Path.TrimEndingDirectorySeparator(outputDirectory) + ".fp32-" + Guid.NewGuid().ToString("N");
        try
        {
            LlamaConfig config = GgufImporter.Import(path, staging);
            Quantization.ModelQuantizer.QuantizeFolder(staging, outputDirectory, new Quantization.QuantizationOptions { Bits = width.Value }, overwrite: true);
            return config;
        }
        finally
        {
            if (Directory.Exists(staging))
            {
                Directory.Delete(staging, recursive: true);
            }
        }
    }
}
