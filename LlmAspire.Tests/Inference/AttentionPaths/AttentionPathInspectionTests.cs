using LlmAspire.Inference.Models;
using LlmAspire.Tests.Cli;

namespace LlmAspire.Tests.Inference.AttentionPaths;

/// <summary><c>llmaspire model inspect</c> names the architecture, the attention path the server will use, and why, one line each.</summary>
public sealed class AttentionPathInspectionTests : IDisposable
{
    private readonly Stories260KFolders _folders = new();

    public void Dispose() => _folders.Dispose();

    [Stories260KFact]
    public async Task Inspect_GqaFolder_NamesTheSharedBufferPath()
    {
        string[] lines = await InspectAsync(_folders.GroupQueryAttention);

        Assert.Contains("architecture   llama decoder, genai_config.json; attention: com.microsoft.GroupQueryAttention", lines);
        Assert.Contains(lines, l => l.StartsWith("attention path shared KV buffer (GroupQueryAttention in place)", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("why            GroupQueryAttention without a position_ids input", StringComparison.Ordinal));
    }

    [Stories260KFact]
    public async Task Inspect_MultiHeadAttentionFolder_NamesThePaddedPerSequencePath()
    {
        string[] lines = await InspectAsync(_folders.MultiHeadAttention);

        Assert.Contains("architecture   llama decoder, genai_config.json; attention: com.microsoft.MultiHeadAttention + com.microsoft.RotaryEmbedding", lines);
        Assert.Contains(lines, l => l.StartsWith("attention path per-sequence KV, decode steps batched by right-padding", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("why            the graph takes past_key_values.N.key", StringComparison.Ordinal) && l.Contains("right-padding is exact", StringComparison.Ordinal));
    }

    [Stories260KFact]
    public async Task Inspect_OptimumFolder_NamesConfigJsonAndThePaddedPerSequencePath()
    {
        string[] lines = await InspectAsync(_folders.Optimum);

        Assert.Contains("architecture   llama decoder, config.json (no genai_config.json); attention: standard ONNX operators (MatMul, Softmax; no fused attention)", lines);
        Assert.Contains(lines, l => l.StartsWith("attention path per-sequence KV, decode steps batched by right-padding", StringComparison.Ordinal));
        Assert.Equal(AttentionPath.PerSequence, ModelInspection.Inspect(_folders.Optimum).Attention.Path);
    }

    private static async Task<string[]> InspectAsync(string folder)
    {
        CliResult result = await CliRunner.RunAsync("model", "inspect", folder);
        Assert.True(result.ExitCode == 0, result.Error);
        return [.. result.Output.Split('\n').Select(l => l.TrimEnd('\r'))];
    }
}
