using LlmAspire.Inference.Models;
using LlmAspire.Tests.Inference;

namespace LlmAspire.Tests.Cli.Commands;

/// <summary>
/// <c>bench quantization</c> runs on the measuring core it shares with <c>bench compression</c> and keeps its own,
/// narrower table: the same columns as before (no batched-decode or prefill columns), float32 first at KL 0.
/// </summary>
public sealed class BenchQuantizationCommandTests : IDisposable
{
    private const string Header =
        "| variant | model bytes | % of fp32 | decode tok/s, median step (p10) | × fp32 | greedy prefix agreement | prompts kept whole | teacher-forced top-1 | mean KL (nats/token) | perplexity |";

    private readonly TempDirectory _temp = TestPaths.CreateTempDirectory();

    public void Dispose() => _temp.Dispose();

    [Stories260KFact]
    public async Task Quantization_OneVariant_TheTableItAlwaysPrinted()
    {
        string model = Path.Combine(_temp.Path, "stories260K");
        ModelConverter.ConvertLlama2c(TestPaths.Stories260KCheckpoint, TestPaths.Stories260KTokenizer, model);

        CliResult result = await CliRunner.RunAsync("bench", "quantization", "--model", model, "--variants", "int8-b32-asym-acc4", "--tokens", "2", "--rounds", "1", "--agreement-tokens", "4");

        Assert.True(result.ExitCode == 0, result.Error);
        string[] lines = [.. result.Output.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0)];
        Assert.Equal("stories260K: 8 prompts x 4 greedy tokens, KL over 162 text tokens, decode 2 tokens x 1 rounds", lines[0]);
        Assert.Equal(Header, lines[1]);
        Assert.StartsWith("| fp32 | 1,464,098 | 100.0 % |", lines[3], StringComparison.Ordinal);
        Assert.Contains("| 100.0 % | 8/8 | 100.0 % | 0 |", lines[3], StringComparison.Ordinal);
        Assert.StartsWith("| int8-b32-asym-acc4 | ", lines[4], StringComparison.Ordinal);
        Assert.Equal(5, lines.Length);
    }
}
