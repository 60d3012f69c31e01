using LlmAspire.Tests.Inference.Engine;

namespace LlmAspire.Tests.Cli.Commands;

/// <summary><c>bench profile</c> over two profiles in ONNX Runtime's trace format: per-type summaries and the node table.</summary>
public sealed class BenchProfileCommandTests : IDisposable
{
    private readonly OrtProfileTests _files = new();

    public void Dispose() => _files.Dispose();

    [Fact]
    public async Task TwoProfiles_NodeByNode_MediansAndWaitsSideBySide()
    {
        string ours = _files.Write(
            OrtProfileTests.Run(2000),
            OrtProfileTests.Kernel("MatMul_gate_up", "MatMul", 430, wait: 40),
            OrtProfileTests.Kernel("MatMul_o", "MatMul", 100, wait: 45),
            OrtProfileTests.Kernel("Split_gate", "Split", 11, wait: null));
        string theirs = _files.Write(
            OrtProfileTests.Run(1500),
            OrtProfileTests.Kernel("MatMul_gate_up", "MatMul", 365, wait: 2),
            OrtProfileTests.Kernel("Split_gate", "Split", 9, wait: null));

        CliResult result = await CliRunner.RunAsync("bench", "profile", ours, theirs, "--op", "MatMul");

        Assert.Equal(0, result.ExitCode);
        string[] lines = result.Output.Split('\n');
        Assert.Contains(lines, line => line.StartsWith(Path.GetFileName(ours) + ": 1 runs, 2.000 ms per run", StringComparison.Ordinal));
        Assert.Contains(lines, line => System.Text.RegularExpressions.Regex.IsMatch(line, @"^\s+MatMul\s+\|\s+98 %\s+\|\s+530 \|\s+2\.0 \|\s+265\.0 \|\s+85$"));
        string gateUp = Assert.Single(lines, line => line.TrimStart().StartsWith("MatMul_gate_up", StringComparison.Ordinal));
        Assert.Matches(@"\|\s+430 /\s+40 \|\s+365 /\s+2\s*$", gateUp);
        string o = Assert.Single(lines, line => line.TrimStart().StartsWith("MatMul_o ", StringComparison.Ordinal));
        Assert.Matches(@"\|\s+100 /\s+45 \|\s+–\s*$", o);
        Assert.DoesNotContain(lines, line => line.TrimStart().StartsWith("Split_gate", StringComparison.Ordinal));
        Assert.True(Array.FindIndex(lines, l => l.TrimStart().StartsWith("MatMul_gate_up", StringComparison.Ordinal)) < Array.IndexOf(lines, o), "Nodes are listed largest first.");
    }

    [Fact]
    public async Task FileThatIsNotAProfile_OneErrorLineNamingIt_ExitCode1()
    {
        string file = _files.Write("1", "2");

        CliResult result = await CliRunner.RunAsync("bench", "profile", file);

        Assert.Equal(1, result.ExitCode);
        string line = Assert.Single(result.ErrorLines);
        Assert.Contains(file, line, StringComparison.Ordinal);
        Assert.Contains("not an ONNX Runtime profile", line, StringComparison.Ordinal);
    }
}
