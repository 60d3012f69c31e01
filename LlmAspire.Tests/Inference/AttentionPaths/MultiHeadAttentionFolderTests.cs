using LlmAspire.Inference;
using LlmAspire.Inference.Engine;
using LlmAspire.Inference.Models;
using LlmAspire.Tests.Inference.GenAi;

namespace LlmAspire.Tests.Inference.AttentionPaths;

/// <summary>
/// An ONNX Runtime GenAI folder whose attention is MultiHeadAttention + RotaryEmbedding (no GroupQueryAttention): our
/// engine serves it on the per-sequence path, and ONNX Runtime GenAI 0.18 on the same folder is the reference.
/// </summary>
public sealed class MultiHeadAttentionFolderTests : IDisposable
{
    private readonly Stories260KFolders _folders = new();

    public void Dispose() => _folders.Dispose();

    [Stories260KFact]
    public void Load_MultiHeadAttentionFolder_ChoosesThePaddedPerSequencePathNamingTheOperators()
    {
        using LanguageModel model = LanguageModel.Load(_folders.MultiHeadAttention, ExecutionProviderPreference.Cpu);

        Assert.Equal(AttentionPath.PerSequence, model.Attention.Path);
        Assert.True(model.Attention.Padded);
        Assert.Equal("com.microsoft.MultiHeadAttention + com.microsoft.RotaryEmbedding", model.Attention.AttentionOperators);
        Assert.Contains("attention_mask and position_ids", model.Attention.Reason, StringComparison.Ordinal);
    }

    [Stories260KFact]
    public async Task Greedy_ThroughOurEngine_SameTokensAsOrtGenAiOnTheSameFolder()
    {
        string folder = _folders.MultiHeadAttention;
        using LanguageModel ours = LanguageModel.Load(folder, ExecutionProviderPreference.Cpu);
        int[] prompt = ours.Tokenizer.Encode(ModelServer.ModelServerHttp.StoryPrompt, addBos: true);

        (string text, int[] tokens) = await Stories260KFolders.GreedyAsync(ours, ModelServer.ModelServerHttp.StoryPrompt, 60).WaitAsync(Stories260KFolders.Timeout);
        int[] theirs = OrtGenAiPeerTests.GenAiGreedy(folder, prompt, prompt.Length + 60);

        Assert.Equal(prompt, theirs[..prompt.Length]);
        Assert.Equal(theirs[prompt.Length..], tokens);
        Assert.Equal(ModelServer.ModelServerHttp.KnownContinuation, text);
    }
}
