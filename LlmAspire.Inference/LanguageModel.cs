using LlmAspire.Inference.Engine;
using LlmAspire.Inference.Models;
using LlmAspire.Inference.Tokenization;

namespace LlmAspire.Inference;

/// <summary>
/// A model folder loaded on ONNX Runtime: its configuration, its tokenizer and one inference session.
/// Thread-safe; <see cref="GenerateAsync"/> may run for several requests at once.
/// </summary>
public sealed partial class LanguageModel : IDisposable
{
    /// <summary>The model id served by the OpenAI API (the folder name unless the config names one).</summary>
    public string Id => throw new NotImplementedException();

    /// <summary>Architecture and context length.</summary>
    public LlamaConfig Config => throw new NotImplementedException();

    /// <summary>The model's tokenizer.</summary>
    public ITokenizer Tokenizer => throw new NotImplementedException();

    /// <summary>"cuda" or "cpu": the provider the session runs on.</summary>
    public string ExecutionProvider => throw new NotImplementedException();

    /// <summary>Why CUDA was not used when <see cref="ExecutionProviderPreference.Auto"/> fell back; else null.</summary>
    public string? FallbackReason => throw new NotImplementedException();

    /// <summary>Loads a model folder written by <see cref="ModelFolder"/>.</summary>
    public static LanguageModel Load(string folder, ExecutionProviderPreference preference = ExecutionProviderPreference.Auto) => throw new NotImplementedException();

    /// <summary>Generates a continuation of <see cref="GenerationRequest.PromptTokens"/>, streaming text as it is decoded.</summary>
    public IAsyncEnumerable<GenerationUpdate> GenerateAsync(GenerationRequest request, CancellationToken cancellationToken = default) => throw new NotImplementedException();

    /// <inheritdoc />
    public void Dispose() => throw new NotImplementedException();
}
