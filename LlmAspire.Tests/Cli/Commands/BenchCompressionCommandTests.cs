using System.Globalization;
using System.Xml.Linq;
using LlmAspire.Inference.Models;
using LlmAspire.Tests.Inference;

namespace LlmAspire.Tests.Cli.Commands;

/// <summary>
/// <c>bench compression</c> on stories260K with a quantized, a pruned and a pruned-then-quantized variant: one table
/// with every row and column, sizes and KL that follow from what each variant removed, and a well-formed size/KL plot;
/// a bad variant name is one error line naming it.
/// </summary>
public sealed class BenchCompressionCommandTests : IDisposable
{
    private readonly TempDirectory _temp = TestPaths.CreateTempDirectory();

    public void Dispose() => _temp.Dispose();

    [Stories260KFact]
    public async Task Compression_QuantizedPrunedAndComposite_OneTableWithEveryRow_AndThePlot()
    {
        string model = ConvertStories260K();
        string markdown = Path.Combine(_temp.Path, "out", "compression.md");
        string plot = Path.Combine(_temp.Path, "out", "compression.svg");
        string[] names = ["fp32", "int8-b32-asym-acc4", "prune-d1", "prune-d1-f75+int4-b32-asym-acc4"];

        CliResult result = await CliRunner.RunAsync(
            "bench", "compression", "--model", model, "--variants", "int8-b32-asym-acc4,prune-d1,prune-d1-f75+int4-b32-asym-acc4",
            "--tokens", "4", "--rounds", "1", "--agreement-tokens", "8", "--work", Path.Combine(_temp.Path, "work"), "--markdown", markdown, "--plot", plot);

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Equal(result.Output.Trim(), File.ReadAllText(markdown).Trim());
        string[] lines = [.. result.Output.Split('\n').Select(l => l.Trim()).Where(l => l.StartsWith('|'))];
        string[] header = Cells(lines[0]);
        Assert.Contains("decode tok/s, 16 streams", header);
        Assert.Contains("prefill tok/s, 256 tokens", header);
        Dictionary<string, string[]> rows = lines[2..].Select(Cells).ToDictionary(cells => cells[0]);
        Assert.Equal(names, rows.Keys);
        long Bytes(string row) => long.Parse(rows[row][Array.IndexOf(header, "model bytes")], NumberStyles.AllowThousands, CultureInfo.InvariantCulture);
        double Column(string row, string column) => double.Parse(rows[row][Array.IndexOf(header, column)].Split(' ')[0], CultureInfo.InvariantCulture);
        Assert.True(Bytes("prune-d1") < Bytes("fp32"));
        Assert.True(Bytes("prune-d1-f75+int4-b32-asym-acc4") < Bytes("prune-d1"));
        Assert.True(Bytes("int8-b32-asym-acc4") < Bytes("fp32"));
        Assert.Equal(0, Column("fp32", "mean KL (nats/token)"));
        Assert.All(names[1..], name => Assert.True(Column(name, "mean KL (nats/token)") > 0, name));
        Assert.True(Column("prune-d1", "mean KL (nats/token)") > Column("int8-b32-asym-acc4", "mean KL (nats/token)"));
        Assert.All(names, name => Assert.True(Column(name, "decode tok/s, 16 streams") > 0 && Column(name, "prefill tok/s, 256 tokens") > 0, name));
        Assert.Equal("8/8", rows["fp32"][Array.IndexOf(header, "prompts kept whole")]);

        XDocument svg = XDocument.Load(plot);
        XNamespace ns = "http://www.w3.org/2000/svg";
        Assert.Equal(ns + "svg", svg.Root!.Name);
        Assert.Equal(names.Length, svg.Descendants(ns + "circle").Count());
        string[] labels = [.. svg.Descendants(ns + "text").Select(t => t.Value)];
        Assert.Contains("fp32 (KL 0)", labels);
        Assert.All(names[1..], name => Assert.Contains(name, labels));
    }

    public static TheoryData<string, string[]> BadVariants => new()
    {
        { "prune-x1", ["--variants", "'x1' in 'prune-x1'"] },
        { "prune-d1-d2", ["--variants", "prune-d1-d2", "twice"] },
        { "prune-f0", ["--variants", "'f0' in 'prune-f0'", "1 to 100"] },
        { "prune-f100", ["--variants", "prune-f100", "prunes nothing"] },
        { "int8-b32-asym-acc4+prune-d1", ["--variants", "int8-b32-asym-acc4+prune-d1", "pruning comes first"] },
        { "prune-d1+int3-b32", ["--variants", "prune-d1+int3-b32", "'int3'"] },
        { "prune-d1+int8+int4", ["--variants", "more than one '+'"] },
        { "int8-b32-asym-acc4,int3-b32", ["--variants", "'int3'"] },
        { ",", ["--variants", "at least one variant"] },
    };

    [Theory]
    [MemberData(nameof(BadVariants))]
    public async Task Compression_BadVariantName_OneErrorLineNamingIt_ExitCode2(string variants, string[] named)
    {
        CliResult result = await CliRunner.RunAsync("bench", "compression", "--model", ".", "--variants", variants);

        AssertOneErrorLine(result, 2, named);
    }

    [Stories260KTheory]
    [InlineData("prune-d5", new[] { "--variants prune-d5", "5 layers" })]
    [InlineData("int8-b32-asym-acc4,prune-h30", new[] { "--variants prune-h30", "whole groups" })]
    public async Task Compression_PruningTheModelCannotTake_OneErrorLineNamingTheVariant_NothingWritten(string variants, string[] named)
    {
        string model = ConvertStories260K();
        string work = Path.Combine(_temp.Path, "work");

        CliResult result = await CliRunner.RunAsync("bench", "compression", "--model", model, "--variants", variants, "--work", work);

        AssertOneErrorLine(result, 2, named);
        Assert.False(Directory.Exists(work) && Directory.EnumerateFileSystemEntries(work).Any());
    }

    private static string[] Cells(string line) => [.. line.Trim('|').Split('|').Select(c => c.Trim())];

    private string ConvertStories260K()
    {
        string folder = Path.Combine(_temp.Path, "stories260K");
        ModelConverter.ConvertLlama2c(TestPaths.Stories260KCheckpoint, TestPaths.Stories260KTokenizer, folder);
        return folder;
    }

    private static void AssertOneErrorLine(CliResult result, int exitCode, params string[] named)
    {
        Assert.True(result.ExitCode == exitCode, $"exit code {result.ExitCode}, expected {exitCode}; stderr: {result.Error}");
        string line = Assert.Single(result.ErrorLines);
        Assert.StartsWith("error: ", line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Error, StringComparison.Ordinal);
        foreach (string name in named)
        {
            Assert.Contains(name, line, StringComparison.Ordinal);
        }
    }
}
