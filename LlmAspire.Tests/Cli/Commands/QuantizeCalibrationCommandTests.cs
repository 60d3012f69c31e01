using LlmAspire.Inference.Models;
using LlmAspire.Tests.Inference;

namespace LlmAspire.Tests.Cli.Commands;

/// <summary>
/// <c>model quantize --method … --calibration …</c>: a mistake in the method or the calibration text is one error
/// line, and nothing is written.
/// </summary>
public sealed class QuantizeCalibrationCommandTests : IDisposable
{
    private readonly TempDirectory _temp = TestPaths.CreateTempDirectory();

    public void Dispose() => _temp.Dispose();

    [Theory]
    [InlineData(new[] { "--bits", "4", "--method", "smoothquant" }, new[] { "--method", "smoothquant" })]
    [InlineData(new[] { "--bits", "4", "--method", "rtn", "--calibration", "text.txt" }, new[] { "--calibration", "rtn" })]
    [InlineData(new[] { "--bits", "4", "--calibration", "text.txt" }, new[] { "--calibration", "rtn" })]
    [InlineData(new[] { "--dtype", "fp16", "--method", "gptq" }, new[] { "--method gptq", "--bits" })]
    [InlineData(new[] { "--bits", "8", "--method", "gptq", "--int8-percent", "50" }, new[] { "--int8-percent", "--bits 4" })]
    [InlineData(new[] { "--bits", "4", "--method", "awq", "--int8-percent", "50" }, new[] { "--int8-percent", "gptq" })]
    [InlineData(new[] { "--bits", "4", "--method", "gptq", "--int8-percent", "101" }, new[] { "--int8-percent", "0 to 100" })]
    public async Task Quantize_BadMethodOrCalibration_OneErrorLine_ExitCode2(string[] options, string[] named)
    {
        string output = Path.Combine(_temp.Path, "out");

        CliResult result = await CliRunner.RunAsync(["model", "quantize", "--in", ".", "--out", output, .. options]);

        AssertOneErrorLine(result, 2, named);
        Assert.False(Directory.Exists(output));
    }

    [Stories260KTheory]
    [InlineData("")]
    [InlineData("\n\n   \n")]
    public async Task Quantize_EmptyCalibrationFile_OneLineNamingIt_NothingWritten(string text)
    {
        string model = ConvertStories260K();
        string file = Path.Combine(_temp.Path, "empty.txt");
        File.WriteAllText(file, text);
        string output = Path.Combine(_temp.Path, "out");

        CliResult result = await CliRunner.RunAsync("model", "quantize", "--in", model, "--out", output, "--bits", "4", "--method", "awq", "--calibration", file);

        AssertOneErrorLine(result, 1, file, "no text");
        Assert.False(Directory.Exists(output));
    }

    [Stories260KFact]
    public async Task Quantize_MissingOrBinaryCalibrationFile_OneLineNamingIt()
    {
        string model = ConvertStories260K();
        string missing = Path.Combine(_temp.Path, "missing.txt");
        string binary = Path.Combine(_temp.Path, "binary.txt");
        File.WriteAllBytes(binary, [0x48, 0x69, 0xff, 0xfe, 0x00, 0xc3]);

        CliResult noFile = await CliRunner.RunAsync("model", "quantize", "--in", model, "--out", Path.Combine(_temp.Path, "a"), "--bits", "4", "--method", "gptq", "--calibration", missing);
        CliResult notText = await CliRunner.RunAsync("model", "quantize", "--in", model, "--out", Path.Combine(_temp.Path, "b"), "--bits", "4", "--method", "gptq", "--calibration", binary);

        AssertOneErrorLine(noFile, 1, missing, "does not exist");
        AssertOneErrorLine(notText, 1, binary, "UTF-8");
        Assert.False(Directory.Exists(Path.Combine(_temp.Path, "a")));
        Assert.False(Directory.Exists(Path.Combine(_temp.Path, "b")));
    }

    [Stories260KFact]
    public async Task Quantize_GptqWithCalibrationFile_WritesMethodAndFileHashToQuantizationJson()
    {
        string model = ConvertStories260K();
        string file = Path.Combine(_temp.Path, "stories.txt");
        File.WriteAllText(file, "The dog ran to the park and played with a ball.\n\nA girl sang a song to her mom, and her mom smiled.\n");
        string output = Path.Combine(_temp.Path, "gptq");

        CliResult result = await CliRunner.RunAsync("model", "quantize", "--in", model, "--out", output, "--bits", "4", "--method", "gptq", "--calibration", file);

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains("int4-b32-asym-acc4-gptq", result.Output, StringComparison.Ordinal);
        Assert.Contains("calibrated on stories.txt", result.Output, StringComparison.Ordinal);
        string json = File.ReadAllText(Path.Combine(output, "quantization.json"));
        Assert.Contains("\"method\": \"gptq\"", json, StringComparison.Ordinal);
        Assert.Contains("\"calibration\": \"stories.txt\"", json, StringComparison.Ordinal);
        string hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(file)));
        Assert.Contains($"\"calibration_sha256\": \"{hash}\"", json, StringComparison.Ordinal);
    }

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
