using LlmAspire.Inference.Models;

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
}
