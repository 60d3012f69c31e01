using LlmAspire.Inference.Models;

namespace LlmAspire.Bench.Peers;

/// <summary>The same weights three ways: our model folder (which GenAI also loads) and a GGUF for llama.cpp.</summary>
/// <param name="Folder">Our model folder (genai_config.json included).</param>
/// <param name="Gguf">The GGUF file: F32, or Q8_0 for the int8 rows.</param>
/// <param name="Config">The model's shape.</param>
internal sealed record PeerModel(string Folder, string Gguf, LlamaConfig Config);
