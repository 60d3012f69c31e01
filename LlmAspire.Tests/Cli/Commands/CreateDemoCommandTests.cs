using LlmAspire.Inference.Models;
using LlmAspire.Tests.Inference;

namespace LlmAspire.Tests.Cli.Commands;

/// <summary><c>llmaspire model create-demo --arch</c>: a folder of the architecture, named in the summary line.</summary>
public sealed class CreateDemoCommandTests
{
    [Theory]
    [InlineData("qwen3", "qwen3")]
    [InlineData("gemma3", "gemma3_text")]
    public async Task CreateDemo_Arch_WritesAFolderOfThatModelType(string arch, string modelType)
    {
        using var temp = TestPaths.CreateTempDirectory();
        string output = Path.Combine(temp.Path, arch);

        CliResult result = await CliRunner.RunAsync("model", "create-demo", "--preset", "tiny", "--arch", arch, "--out", output);

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains($"preset tiny, arch {arch} ({modelType})", result.Output, StringComparison.Ordinal);
        (LlamaConfig config, GenAiConfig genai) = ModelFolder.ReadConfig(output);
        Assert.Equal(modelType, genai.Model.Type);
        Assert.Equal(DemoPresets.Get("tiny", arch).Config, config);
    }
}
