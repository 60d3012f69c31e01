using LlmAspire.Inference.Engine;
using LlmAspire.Inference;
using LlmAspire.Inference.Models;
using LlmAspire.Tests.Inference;

namespace LlmAspire.Tests.Cli.Commands;

/// <summary>
/// Every user mistake is one line on standard error (<c>error: …</c>, naming the path or value and the fix), a
/// non-zero exit code (2 for the command line, 1 for what the command found), and no stack trace unless --verbose.
/// </summary>
public sealed class CommandErrorTests : IDisposable
{
    private readonly TempDirectory _temp = TestPaths.CreateTempDirectory();

    public void Dispose() => _temp.Dispose();

    public static TheoryData<string[], string[]> CommandLineMistakes => new()
    {
        { ["generate", "--model", "/no/such/folder", "--prompt", "hi"], ["/no/such/folder", "--model", "llmaspire model convert"] },
        { ["generate", "--model", ".", "--prompt", "hi", "--max-tokens", "-5"], ["--max-tokens", "-5"] },
        { ["generate", "--model", ".", "--prompt", "hi", "--top-p", "1.5"], ["--top-p", "1.5"] },
        { ["generate", "--model", ".", "--prompt", "hi", "--execution-provider", "tpu"], ["--execution-provider", "tpu"] },
        { ["generate", "--prompt", "hi"], ["--model"] },
        { ["model", "quantize", "--in", ".", "--out", "q", "--dtype", "fp64"], ["--dtype", "fp64"] },
        { ["model", "quantize", "--in", ".", "--out", "q"], ["--bits", "--dtype fp16"] },
        { ["model", "quantize", "--in", "/no/such/model", "--out", "q", "--bits", "4"], ["/no/such/model", "--in"] },
        { ["model", "convert", "--llama2c", "/no/such/model.bin", "--tokenizer", "/no/such/tok.bin", "--out", "o"], ["/no/such/model.bin", "--llama2c"] },
        { ["model", "convert", "--llama2c", "model.bin", "--out", "o"], ["--tokenizer"] },
        { ["model", "inspect", "/no/such/model"], ["/no/such/model"] },
        { ["model", "create-demo", "--preset", "huge", "--out", "d"], ["--preset", "huge"] },
        { ["model", "create-demo", "--preset", "tiny", "--arch", "gpt2", "--out", "d"], ["--arch", "gpt2"] },
        { ["bench", "engine", "--model", ".", "--streams", "1,x"], ["--streams", "'x'"] },
        { ["bench", "engine", "--model", "/no/such/model"], ["/no/such/model"] },
        { ["bench", "quantization", "--model", ".", "--variants", "int3-b32"], ["--variants", "int3"] },
        { ["bench", "serve", "--base-url", "http://localhost:1", "--request-rate", "fast"], ["--request-rate", "fast"] },
        { ["bench", "serve", "--base-url", "localhost:5080"], ["--base-url", "localhost:5080"] },
        { ["bench", "serve", "--base-url", "http://localhost:1", "--goodput", "ttft:soon"], ["--goodput", "ttft:soon"] },
        { ["bench", "serve", "--base-url", "http://localhost:1", "--num-prompts", "0"], ["--num-prompts", "0"] },
        { ["bench", "serve", "--base-url", "http://localhost:1", "--dataset", "jsonl"], ["--jsonl"] },
        { ["bench", "compare", "/no/such/result.json"], ["/no/such/result.json"] },
        { ["bench", "profile", "/no/such/profile.json"], ["/no/such/profile.json"] },
        { ["bench", "engine", "--model", ".", "--profile-out", "p"], ["--profile-out", "--breakdown"] },
        { ["deploy", "kubernetes", "--manifest", "/no/such/aspire-manifest.json", "--out", "k8s"], ["/no/such/aspire-manifest.json", "--manifest"] },
        { ["deploy", "kubernetes", "--manifest", "m.json", "--out", "k8s", "--replicas-per-server", "0"], ["--replicas-per-server", "0"] },
        { ["deploy", "kubernetes", "--manifest", "m.json", "--out", "k8s", "--namespace", "Prod_1"], ["--namespace", "Prod_1"] },
        { ["generate", "--model", ".", "--prompt", "hi", "--frobnicate"], ["--frobnicate"] },
    };

    [Theory]
    [MemberData(nameof(CommandLineMistakes))]
    public async Task Run_CommandLineMistake_OneErrorLineNamingIt_ExitCode2(string[] args, string[] named)
    {
        CliResult result = await CliRunner.RunAsync(args);

        AssertOneErrorLine(result, 2, named);
    }

    [Fact]
    public async Task Convert_TruncatedCheckpoint_OneLineNamingTheFile_ExitCode1()
    {
        (string checkpoint, string tokenizer) = WriteSmallCheckpoint();
        byte[] bytes = File.ReadAllBytes(checkpoint);
        File.WriteAllBytes(checkpoint, bytes[..(bytes.Length / 2)]);

        CliResult result = await CliRunner.RunAsync("model", "convert", "--llama2c", checkpoint, "--tokenizer", tokenizer, "--out", Path.Combine(_temp.Path, "out"));

        AssertOneErrorLine(result, 1, checkpoint, "ends early", bytes.Length.ToString("N0", System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task Convert_TruncatedTokenizer_OneLineNamingTheFile_ExitCode1()
    {
        (string checkpoint, string tokenizer) = WriteSmallCheckpoint();
        File.WriteAllBytes(tokenizer, File.ReadAllBytes(tokenizer)[..200]);

        CliResult result = await CliRunner.RunAsync("model", "convert", "--llama2c", checkpoint, "--tokenizer", tokenizer, "--out", Path.Combine(_temp.Path, "out"));

        AssertOneErrorLine(result, 1, tokenizer, "ends after");
    }

    [Fact]
    public async Task Convert_OutputFolderInsideAFile_OneLineNamingTheFile()
    {
        (string checkpoint, string tokenizer) = WriteSmallCheckpoint();
        string file = Path.Combine(_temp.Path, "a-file");
        File.WriteAllText(file, "not a folder");

        CliResult result = await CliRunner.RunAsync("model", "convert", "--llama2c", checkpoint, "--tokenizer", tokenizer, "--out", Path.Combine(file, "model"));

        AssertOneErrorLine(result, 2, file, "--out");
    }

    [Fact]
    public async Task Generate_CorruptGenAiConfig_OneLineNamingTheFolder_ExitCode1()
    {
        string folder = ConvertSmallCheckpoint();
        File.WriteAllText(Path.Combine(folder, ModelFolder.ConfigFile), "{ \"model\": ");

        CliResult result = await CliRunner.RunAsync("generate", "--model", folder, "--prompt", "the");

        AssertOneErrorLine(result, 1, folder, ModelFolder.ConfigFile);
    }

    [Fact]
    public async Task Generate_CorruptModelOnnx_OneLineFromOnnxRuntimeNamingTheFile_ExitCode1()
    {
        string folder = ConvertSmallCheckpoint();
        File.WriteAllBytes(Path.Combine(folder, ModelFolder.ModelFile), [.. Enumerable.Range(0, 4096).Select(i => (byte)(i * 37))]);

        CliResult result = await CliRunner.RunAsync("generate", "--model", folder, "--prompt", "the");

        AssertOneErrorLine(result, 1, Path.Combine(folder, ModelFolder.ModelFile));
    }

    [Fact]
    public async Task Inspect_FolderWithoutGenAiConfig_OneLineSayingHowToMakeOne_ExitCode1()
    {
        CliResult result = await CliRunner.RunAsync("model", "inspect", _temp.Path);

        AssertOneErrorLine(result, 1, _temp.Path, ModelFolder.ConfigFile, "llmaspire model convert");
    }

    [Fact]
    public async Task CreateDemo_OutputNotEmptyWithoutForce_OneLineNamingItAndForce()
    {
        string output = Path.Combine(_temp.Path, "demo");
        Directory.CreateDirectory(output);
        File.WriteAllText(Path.Combine(output, "keep.txt"), "mine");

        CliResult result = await CliRunner.RunAsync("model", "create-demo", "--preset", DemoPresets.All[0].Name, "--out", output);

        AssertOneErrorLine(result, 2, output, "--force");
        Assert.True(File.Exists(Path.Combine(output, "keep.txt")));
    }

    [Fact]
    public async Task DeployKubernetes_ManifestNotJson_OneLineNamingTheFile_ExitCode1()
    {
        string manifest = Path.Combine(_temp.Path, "aspire-manifest.json");
        File.WriteAllText(manifest, "resources: not json");

        CliResult result = await CliRunner.RunAsync("deploy", "kubernetes", "--manifest", manifest, "--out", Path.Combine(_temp.Path, "k8s"));

        AssertOneErrorLine(result, 1, manifest, "not an Aspire manifest");
    }

    [Fact]
    public async Task BenchCompare_FileThatIsNotAResult_OneLineNamingTheFile_ExitCode1()
    {
        string file = Path.Combine(_temp.Path, "result.json");
        File.WriteAllText(file, "[1, 2, 3]");

        CliResult result = await CliRunner.RunAsync("bench", "compare", file);

        AssertOneErrorLine(result, 1, file, "not a bench serve result");
    }

    [Fact]
    public async Task Convert_TruncatedCheckpointWithVerbose_TheErrorLineThenTheStackTrace()
    {
        (string checkpoint, string tokenizer) = WriteSmallCheckpoint();
        File.WriteAllBytes(checkpoint, File.ReadAllBytes(checkpoint)[..1000]);

        CliResult result = await CliRunner.RunAsync("model", "convert", "--llama2c", checkpoint, "--tokenizer", tokenizer, "--out", Path.Combine(_temp.Path, "out"), "--verbose");

        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith("error: ", result.ErrorLines[0], StringComparison.Ordinal);
        Assert.Contains(checkpoint, result.ErrorLines[0], StringComparison.Ordinal);
        Assert.Contains("   at ", result.Error, StringComparison.Ordinal);
        Assert.Contains("Llama2cCheckpoint.Read", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Generate_VerboseBeforeTheCommand_AlsoShowsTheTrace()
    {
        CliResult result = await CliRunner.RunAsync("--verbose", "generate", "--model", "/no/such/folder", "--prompt", "hi");

        Assert.Equal(2, result.ExitCode);
        Assert.Equal("error: model folder /no/such/folder does not exist; pass --model a folder written by `llmaspire model convert`", result.ErrorLines[0]);
        Assert.Contains("   at ", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConvertThenGenerate_VocabularyWithoutByteFallback_SucceedsWithNothingOnStandardError()
    {
        (string checkpoint, string tokenizer) = WriteSmallCheckpoint();
        string folder = Path.Combine(_temp.Path, "small");

        CliResult convert = await CliRunner.RunAsync("model", "convert", "--llama2c", checkpoint, "--tokenizer", tokenizer, "--out", folder);
        CliResult generate = await CliRunner.RunAsync("generate", "--model", folder, "--prompt", "the king € sang", "--max-tokens", "8");

        Assert.Equal((0, ""), (convert.ExitCode, convert.Error));
        Assert.Contains("vocab=105", convert.Output, StringComparison.Ordinal);
        Assert.Equal((0, ""), (generate.ExitCode, generate.Error));
        Assert.StartsWith("the king € sang", generate.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Generate_PromptIds_SameTokensAsTheTextPrompt_PrintedAsTheLastLine()
    {
        string folder = ConvertSmallCheckpoint();
        using LanguageModel model = LanguageModel.Load(folder, ExecutionProviderPreference.Cpu);
        string ids = string.Join(',', model.Tokenizer.Encode("the king sang", addBos: true));

        CliResult byText = await CliRunner.RunAsync("generate", "--model", folder, "--prompt", "the king sang", "--max-tokens", "10", "--print-ids");
        CliResult byIds = await CliRunner.RunAsync("generate", "--model", folder, "--prompt-ids", ids, "--max-tokens", "10", "--print-ids");

        Assert.Equal((0, ""), (byText.ExitCode, byText.Error));
        Assert.Equal((0, ""), (byIds.ExitCode, byIds.Error));
        string[] lastText = byText.Output.TrimEnd().Split('\n')[^1].Split(',');
        string[] lastIds = byIds.Output.TrimEnd().Split('\n')[^1].Split(',');
        Assert.Equal(10, lastText.Length);
        Assert.All(lastText, id => Assert.True(int.TryParse(id, out _), id));
        Assert.Equal(lastText, lastIds);
    }

    [Theory]
    [InlineData("3,x,5", "'x' is not a token id")]
    [InlineData("3,99999", "token id 99999 is outside the vocabulary")]
    public async Task Generate_BadPromptIds_OneLineNamingTheId(string ids, string named)
    {
        string folder = ConvertSmallCheckpoint();

        CliResult result = await CliRunner.RunAsync("generate", "--model", folder, "--prompt-ids", ids);

        AssertOneErrorLine(result, 2, "--prompt-ids", named);
    }

    [Fact]
    public async Task Generate_BothOrNeitherPrompt_OneLineSayingToGiveOne()
    {
        CliResult neither = await CliRunner.RunAsync("generate", "--model", _temp.Path);
        CliResult both = await CliRunner.RunAsync("generate", "--model", _temp.Path, "--prompt", "hi", "--prompt-ids", "1,2");

        AssertOneErrorLine(neither, 2, "--prompt-ids");
        AssertOneErrorLine(both, 2, "--prompt-ids");
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

    private (string Checkpoint, string Tokenizer) WriteSmallCheckpoint() => SmallVocabularyCheckpoint.Write(_temp.Path);

    private string ConvertSmallCheckpoint()
    {
        (string checkpoint, string tokenizer) = WriteSmallCheckpoint();
        string folder = Path.Combine(_temp.Path, "model");
        ModelConverter.ConvertLlama2c(checkpoint, tokenizer, folder);
        return folder;
    }
}
