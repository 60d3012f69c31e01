using System.Text;
using LlmAspire.Inference;
using LlmAspire.Inference.Engine;
using LlmAspire.Inference.Models;
using LlmAspire.Inference.Models.Exports;

namespace LlmAspire.Tests.Inference.AttentionPaths;

/// <summary>stories260K written three ways into one temp folder: ours (GroupQueryAttention), GenAI-style MultiHeadAttention, Optimum-style.</summary>
internal sealed class Stories260KFolders : IDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    private readonly TempDirectory _temp = TestPaths.CreateTempDirectory();

    public string GroupQueryAttention => Folder("stories260K-gqa", folder => ModelConverter.ConvertLlama2c(TestPaths.Stories260KCheckpoint, TestPaths.Stories260KTokenizer, folder));

    public string MultiHeadAttention => Folder("stories260K-mha", folder => DecoderExportWriter.ConvertLlama2c(TestPaths.Stories260KCheckpoint, TestPaths.Stories260KTokenizer, folder, DecoderExportKind.GenAiMultiHeadAttention));

    public string Optimum => Folder("stories260K-optimum", folder => DecoderExportWriter.ConvertLlama2c(TestPaths.Stories260KCheckpoint, TestPaths.Stories260KTokenizer, folder, DecoderExportKind.Optimum));

    public string Root => _temp.Path;

    public void Dispose() => _temp.Dispose();

    /// <summary>A greedy completion's text and token ids through the engine.</summary>
    public static async Task<(string Text, int[] Tokens)> GreedyAsync(LanguageModel model, string prompt, int maxTokens)
    {
        var text = new StringBuilder();
        int[] tokens = [];
        await foreach (GenerationUpdate update in model.GenerateAsync(new GenerationRequest(model.Tokenizer.Encode(prompt, addBos: true), maxTokens, Temperature: 0)).WithCancellation(CancellationToken.None))
        {
            text.Append(update.Text);
            tokens = update.TokenIds is { } ids ? [.. ids] : tokens;
        }

        return (text.ToString(), tokens);
    }

    private string Folder(string name, Action<string> write)
    {
        string folder = Path.Combine(_temp.Path, name);
        if (!Directory.Exists(folder))
        {
            write(folder);
        }

        return folder;
    }
}
