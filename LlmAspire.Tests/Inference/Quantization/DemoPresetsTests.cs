using LlmAspire.Inference;
using LlmAspire.Inference.Engine;
using LlmAspire.Inference.Models;
using LlmAspire.Tests.Inference.GenAi;

namespace LlmAspire.Tests.Inference.Quantization;

public sealed class DemoPresetsTests
{
    [Fact]
    public void Write_TinyTwice_WritesTheSameBytes()
    {
        using var temp = TestPaths.CreateTempDirectory();
        string a = Path.Combine(temp.Path, "a"), b = Path.Combine(temp.Path, "b");

        DemoPresets.Write(DemoPresets.Get("tiny"), a);
        DemoPresets.Write(DemoPresets.Get("TINY"), b);

        string[] files = [.. Directory.EnumerateFiles(a).Select(Path.GetFileName).Order(StringComparer.Ordinal)!];
        Assert.Contains(ModelFolder.ModelFile, files);
        Assert.Equal(files, Directory.EnumerateFiles(b).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        foreach (string file in files)
        {
            Assert.Equal(File.ReadAllBytes(Path.Combine(a, file)), File.ReadAllBytes(Path.Combine(b, file)));
        }
    }

    [Fact]
    public void Presets_TinyIsTheBuiltInDemo_And100MHasAbout100MParameters()
    {
        Assert.Equal(BuiltInModels.DemoConfig, DemoPresets.Tiny.Config);
        DemoPreset large = DemoPresets.Get("100m");
        Assert.InRange(large.ParameterCount, 95_000_000, 110_000_000);
        Assert.Equal((768, 12, 12, 4, 1024), (large.Config.Dim, large.Config.Layers, large.Config.Heads, large.Config.KvHeads, large.Config.ContextLength));

        // float32 weights, stored once more for the untransposed classifier: far below protobuf's 2 GiB.
        Assert.True((large.ParameterCount + (long)large.Config.VocabSize * large.Config.Dim) * 4 < 1L << 30);
    }

    [Fact]
    public void Get_UnknownPreset_NamesTheKnownOnes()
    {
        var ex = Assert.Throws<ArgumentException>(() => DemoPresets.Get("huge"));
        Assert.Contains("tiny, 100m", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Get_UnknownArchitecture_NamesTheKnownOnes()
    {
        var ex = Assert.Throws<ArgumentException>(() => DemoPresets.Get("tiny", "gpt2"));
        Assert.Contains("llama, mistral, qwen2, qwen3, phi3, gemma2, gemma3", ex.Message, StringComparison.Ordinal);
    }

    public static TheoryData<string> Architectures => [.. DemoPresets.Architectures];

    [Theory]
    [MemberData(nameof(Architectures))]
    public void Get_100MOfEachArchitecture_HasAbout100MParametersAndItsDistinguishingFeatures(string architecture)
    {
        LlamaConfig c = DemoPresets.Get("100m", architecture).Config;

        Assert.InRange(c.ParameterCount, 95_000_000, 120_000_000);
        Assert.Equal((768, 12, 3072, 1024), (c.Dim, c.Layers, c.HiddenDim, c.ContextLength));
        Assert.Equal(architecture == "gemma3" ? "gemma3_text" : architecture, c.ModelType);
        switch (architecture)
        {
            case "llama":
                Assert.Equal(DemoPresets.Base100M.Config, c);
                break;
            case "mistral":
                Assert.Equal(128, c.SlidingWindow);
                break;
            case "qwen2":
                Assert.True(c.QkvBias);
                break;
            case "qwen3":
                Assert.True(c.QkNorm);
                Assert.Equal(128, c.HeadSize);
                break;
            case "phi3":
                Assert.Equal((48, 512, false), (c.RotaryDim, c.SlidingWindow, c.TiedEmbeddings));
                break;
            case "gemma2":
                Assert.Equal((50f, 30f, 512, true, true), (c.AttentionSoftcap, c.FinalLogitSoftcap, c.SlidingWindow, c.AlternatingSlidingWindow, c.SandwichNorms));
                break;
            case "gemma3":
                Assert.Equal((true, true, 6, 10_000f, 1_000_000f, "linear"), (c.QkNorm, c.SandwichNorms, c.SlidingWindowPattern, c.LocalRopeTheta, c.RopeTheta, c.RopeScaling?.Type));
                Assert.Equal([512, 512, 512, 512, 512, 0, 512, 512, 512, 512, 512, 0], Enumerable.Range(0, 12).Select(c.WindowOf));
                break;
        }
    }

    [Theory]
    [MemberData(nameof(Architectures))]
    public void Write_TinyOfEachArchitecture_LoadsAndGeneratesWhatGenAiGenerates(string architecture)
    {
        using var temp = TestPaths.CreateTempDirectory();
        DemoPreset preset = DemoPresets.Get("tiny", architecture);
        DemoPresets.Write(preset, temp.Path);

        Assert.Equal(preset.Config, ModelFolder.ReadConfig(temp.Path).Config);
        using LanguageModel model = LanguageModel.Load(temp.Path, ExecutionProviderPreference.Cpu);
        int[] prompt = model.Tokenizer.Encode("the cat sat", addBos: true);
        List<int> ours = OrtGenAiPeerTests.GreedyTokens(model, prompt, 16);
        int[] theirs = OrtGenAiPeerTests.GenAiGreedy(temp.Path, prompt, prompt.Length + ours.Count);

        Assert.NotEmpty(ours);
        Assert.Equal(ours, theirs[prompt.Length..]);
    }
}
