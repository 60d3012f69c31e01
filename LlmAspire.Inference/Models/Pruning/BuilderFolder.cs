namespace LlmAspire.Inference.Models.Pruning;

/// <summary>A model folder of LlmAspire's builder read back by <see cref="LlamaFolderReader"/>.</summary>
/// <param name="Config">The decoder's shape.</param>
/// <param name="Weights">Its float32 weights, unpadded and untransposed.</param>
/// <param name="FusedProjections">Whether the graph packs q|k|v and gate|up into one MatMul each (written back the same way).</param>
/// <param name="GenAi">The folder's genai_config.json.</param>
/// <param name="Source">Where llmaspire.json says the weights came from, if it says.</param>
public sealed record BuilderFolder(LlamaConfig Config, LlamaWeights Weights, bool FusedProjections, GenAiConfig GenAi, string? Source);
