using LlmAspire.Inference;
using LlmAspire.Inference.Engine;
using LlmAspire.Inference.Models;
using LlmAspire.Inference.Models.Gguf;
using LlmAspire.Inference.Models.Quantization;
using LlmAspire.Tests.Inference;
using LlmAspire.Tests.Inference.Gguf;

namespace LlmAspire.Tests.Cli.Commands;

/// <summary><c>llmaspire model convert --gguf</c>: the folder it writes, the width <c>--quantize auto</c> picks, and its errors.</summary>
public sealed class ModelConvertGgufTests : IDisposable
{
    private static readonly LlamaConfig Config = GgufImportTests.Small("llama", tied: true, dim: 64, hidden: 128);
    private readonly TempDirectory _temp = TestPaths.CreateTempDirectory();

    public void Dispose() => _temp.Dispose();

    [Theory]
    [InlineData("Q4_0", null, 4)]
    [InlineData("Q8_0", null, 8)]
    [InlineData("F16", null, null)]
    [InlineData("Q8_0", "none", null)]
    [InlineData("F32", "int4", 4)]
    public async Task Convert_Gguf_QuantizesToTheNearestWidthUnlessTold(string type, string? quantize, int? bits)
    {
        string file = Write(Enum.Parse<GgmlType>(type));
        string folder = Path.Combine(_temp.Path, "out");

        CliResult result = await CliRunner.RunAsync(["model", "convert", "--gguf", file, "--out", folder, .. quantize is null ? Array.Empty<string>() : ["--quantize", quantize]]);

        Assert.Equal(0, result.ExitCode);
        Assert.Contains($"stored as {type}", result.Output, StringComparison.Ordinal);
        Assert.Equal(bits, ModelQuantizer.ReadManifest(folder)?.Bits);
        Assert.Empty(Directory.EnumerateDirectories(_temp.Path, "out.fp32-*"));
        using LanguageModel model = LanguageModel.Load(folder, ExecutionProviderPreference.Cpu);
        Assert.NotEmpty(Inference.GenAi.OrtGenAiPeerTests.GreedyTokens(model, [1, 40, 7], 5));
    }

    [Fact]
    public async Task Convert_GgufOfUnsupportedArchitecture_OneErrorLineNamingIt_NoFolder()
    {
        GgufCheckpoint checkpoint = GgufCheckpoint.Create(Config, BuiltInModels.RandomWeights(Config, seed: 3), GgmlType.F32);
        checkpoint.Writer.Add("general.architecture", "rwkv6");
        string file = Path.Combine(_temp.Path, "model.gguf");
        checkpoint.Write(file);
        string folder = Path.Combine(_temp.Path, "out");

        CliResult result = await CliRunner.RunAsync("model", "convert", "--gguf", file, "--out", folder);

        Assert.Equal(1, result.ExitCode);
        string line = Assert.Single(result.ErrorLines);
        Assert.Contains("'rwkv6'", line, StringComparison.Ordinal);
        Assert.False(Directory.Exists(folder));
    }

    [Fact]
    public async Task Convert_QuantizeWithoutGguf_IsAUsageError()
    {
        CliResult result = await CliRunner.RunAsync("model", "convert", "--hf", _temp.Path, "--quantize", "int4", "--out", Path.Combine(_temp.Path, "out"));

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("--quantize goes with --gguf", result.Error, StringComparison.Ordinal);
    }

    private string Write(GgmlType type)
    {
        string file = Path.Combine(_temp.Path, $"model-{type}.gguf");
        GgufCheckpoint.Create(Config, BuiltInModels.RandomWeights(Config, seed: 2, scale: 0.2f), type).Write(file);
        return file;
    }
}
