using System.Security.Cryptography;
using LlmAspire.Inference;
using LlmAspire.Inference.Engine;
using LlmAspire.Inference.Models;
using LlmAspire.Inference.Models.Pruning;
using LlmAspire.Inference.Models.Quantization;
using LlmAspire.Tests.Inference;

namespace LlmAspire.Tests.Cli.Commands;

/// <summary>
/// <c>llmaspire model prune</c> on the tiny demo preset (2 layers, FFN 172, 4 heads over 2 KV heads): it writes a loadable
/// folder with pruning.json, and every bad input is one error line before anything is written.
/// </summary>
public sealed class PruneCommandTests : IDisposable
{
    private readonly TempDirectory _temp = TestPaths.CreateTempDirectory();

    public PruneCommandTests()
    {
        Tiny = Path.Combine(_temp.Path, "tiny");
        DemoPresets.Write(DemoPresets.Tiny, Tiny);
        Out = Path.Combine(_temp.Path, "pruned");
    }

    private string Tiny { get; }

    private string Out { get; }

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task Prune_DropLayerAndHalveFfnAndHeads_WritesALoadableFolderWithItsRecord()
    {
        string calibration = Path.Combine(_temp.Path, "calibration.txt");
        File.WriteAllText(calibration, "The cat sat on the mat.\n\nA dog ran in the park and found a ball.\n");

        CliResult result = await CliRunner.RunAsync(
            "model", "prune", "--in", Tiny, "--out", Out, "--drop-layers", "1", "--ffn-keep", "0.5", "--heads-keep", "0.5", "--calibration", calibration);

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains("layers 2 -> 1, ffn 172 -> 88, heads 4 -> 2 (kv 2 -> 1)", result.Output, StringComparison.Ordinal);
        PruningManifest manifest = ModelPruner.ReadManifest(Out)!;
        Assert.Equal(Path.GetFullPath(calibration), manifest.Calibration);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(calibration))), manifest.CalibrationSha256);
        Assert.Equal(2, manifest.CalibrationDocuments);
        Assert.Single(manifest.DroppedLayers);
        Assert.Equal(2, manifest.BlockInfluence.Count);
        Assert.True(manifest.Bytes < manifest.SourceBytes);
        using LanguageModel model = LanguageModel.Load(Out, ExecutionProviderPreference.Cpu);
        Assert.Equal((1, 88, 2, 1), (model.Config.Layers, model.Config.HiddenDim, model.Config.Heads, model.Config.KvHeads));
        using DecoderState state = model.Decoder.CreateState();
        Assert.All(model.Decoder.Forward(state, model.Tokenizer.Encode("The cat", addBos: true)), v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public async Task Prune_ExistingOutputWithoutForce_IsRefused_AndWithForceReplaced()
    {
        Directory.CreateDirectory(Out);
        File.WriteAllText(Path.Combine(Out, "keep.txt"), "x");

        CliResult refused = await CliRunner.RunAsync("model", "prune", "--in", Tiny, "--out", Out, "--ffn-keep", "0.5");
        CliResult forced = await CliRunner.RunAsync("model", "prune", "--in", Tiny, "--out", Out, "--ffn-keep", "0.5", "--force");

        AssertOneErrorLine(refused, 2, "--force");
        Assert.True(forced.ExitCode == 0, forced.Error);
        Assert.False(File.Exists(Path.Combine(Out, "keep.txt")));
        Assert.Equal("built-in", ModelPruner.ReadManifest(Out)!.Calibration);
    }

    public static TheoryData<string[], string[]> Mistakes => new()
    {
        { [], ["nothing to do", "--drop-layers"] },
        { ["--ffn-keep", "1.5"], ["--ffn-keep", "1.5"] },
        { ["--ffn-keep", "0"], ["--ffn-keep", "0"] },
        { ["--heads-keep", "-0.5"], ["--heads-keep", "-0.5"] },
        { ["--drop-layers", "-1"], ["--drop-layers", "-1"] },
        { ["--drop-layers", "2"], ["--drop-layers 2", "2 layers"] },
        { ["--ffn-keep", "0.001"], ["--ffn-keep 0.001", "no channel"] },
        { ["--heads-keep", "0.75"], ["--heads-keep 0.75", "whole groups", "1/2"] },
    };

    [Theory]
    [MemberData(nameof(Mistakes))]
    public async Task Prune_BadOption_OneErrorLineNamingIt_ExitCode2_NothingWritten(string[] options, string[] named)
    {
        CliResult result = await CliRunner.RunAsync(["model", "prune", "--in", Tiny, "--out", Out, .. options]);

        AssertOneErrorLine(result, 2, named);
        Assert.False(Directory.Exists(Out));
    }

    [Fact]
    public async Task Prune_CalibrationFileWithoutText_OneErrorLine_NothingWritten()
    {
        string empty = Path.Combine(_temp.Path, "empty.txt");
        File.WriteAllText(empty, "\n  \n\n");

        CliResult result = await CliRunner.RunAsync("model", "prune", "--in", Tiny, "--out", Out, "--ffn-keep", "0.5", "--calibration", empty);

        AssertOneErrorLine(result, 1, empty, "no text");
        Assert.False(Directory.Exists(Out));
    }

    [Fact]
    public async Task Prune_QuantizedFolder_OneErrorLineSayingToPruneTheFloat32Source()
    {
        string quantized = Path.Combine(_temp.Path, "int4");
        ModelQuantizer.QuantizeFolder(Tiny, quantized, QuantizationOptions.Parse("int4-b32-sym-acc4"));

        CliResult result = await CliRunner.RunAsync("model", "prune", "--in", quantized, "--out", Out, "--drop-layers", "1");

        AssertOneErrorLine(result, 1, "quantized", "float32 source");
        Assert.False(Directory.Exists(Out));
    }

    [Fact]
    public async Task Prune_FolderNotWrittenByOurBuilder_OneErrorLine()
    {
        File.Delete(Path.Combine(Tiny, ModelFolder.ArchitectureFile));

        CliResult result = await CliRunner.RunAsync("model", "prune", "--in", Tiny, "--out", Out, "--drop-layers", "1");

        AssertOneErrorLine(result, 1, "not written by LlmAspire's builder");
        Assert.False(Directory.Exists(Out));
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
