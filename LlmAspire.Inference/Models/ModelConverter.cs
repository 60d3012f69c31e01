namespace LlmAspire.Inference.Models;

/// <summary>Converts checkpoints into model folders.</summary>
public static class ModelConverter
{
    /// <summary>Converts a llama2.c checkpoint and tokenizer.bin into a model folder at <paramref name="outputDirectory"/>.</summary>
    public static void ConvertLlama2c(string checkpointPath, string tokenizerPath, string outputDirectory) => throw new NotImplementedException();
}
