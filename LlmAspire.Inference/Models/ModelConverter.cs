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
}
