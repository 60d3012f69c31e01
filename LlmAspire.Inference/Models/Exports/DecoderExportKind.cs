namespace LlmAspire.Inference.Models.Exports;

/// <summary>The per-sequence folder layouts <see cref="DecoderExportWriter"/> writes.</summary>
public enum DecoderExportKind
{
    /// <summary>An ONNX Runtime GenAI folder (genai_config.json, model.onnx, tokenizer) whose attention is MultiHeadAttention + RotaryEmbedding.</summary>
    GenAiMultiHeadAttention,

    /// <summary>An Optimum-style export: config.json, generation_config.json, model.onnx of standard ONNX operators, tokenizer; no genai_config.json.</summary>
    Optimum,
}
