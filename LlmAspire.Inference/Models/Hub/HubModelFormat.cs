namespace LlmAspire.Inference.Models.Hub;

/// <summary>What a hub folder holds, which decides what is downloaded and how it becomes a model folder.</summary>
public enum HubModelFormat
{
    /// <summary>A model folder already (<c>genai_config.json</c> + <c>*.onnx</c>): used as downloaded.</summary>
    ModelFolder,

    /// <summary>A llama2.c checkpoint <c>*.bin</c> and its tokenizer <c>tok*.bin</c>: converted once, then cached.</summary>
    Llama2c,

    /// <summary>A Hugging Face Llama folder (<c>config.json</c> + <c>*.safetensors</c>): imported once, then cached.</summary>
    HuggingFaceLlama,

    /// <summary>
    /// A GGUF file (llama.cpp's format): named by the reference (<c>hf:owner/repo/file.gguf</c>) or the only one in the
    /// folder; imported once (linear layers requantized to the nearest MatMulNBits width), then cached.
    /// </summary>
    Gguf,
}
