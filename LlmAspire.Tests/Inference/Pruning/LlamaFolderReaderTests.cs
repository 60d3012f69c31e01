using LlmAspire.Inference.Models;
using LlmAspire.Inference.Models.Pruning;
using LlmAspire.Inference.Models.Quantization;

namespace LlmAspire.Tests.Inference.Pruning;

/// <summary>A folder our builder wrote reads back into the very weights it was written from, fused or not, for every architecture.</summary>
public sealed class LlamaFolderReaderTests : IDisposable
{
    private readonly TempDirectory _temp = TestPaths.CreateTempDirectory();

    public void Dispose() => _temp.Dispose();

    public static TheoryData<string, bool> Architectures()
    {
        var data = new TheoryData<string, bool>();
        foreach (string arch in DemoPresets.Architectures)
        {
            data.Add(arch, true);
            data.Add(arch, false);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Architectures))]
    public void Read_FolderWrittenFromWeights_GivesTheSameConfigAndWeights(string arch, bool fused)
    {
        DemoPreset preset = DemoPresets.Get("tiny", arch);
        LlamaWeights weights = BuiltInModels.RandomWeights(preset.Config, preset.Seed, preset.Scale);
        string folder = Path.Combine(_temp.Path, $"{arch}-{fused}");
        ModelFolder.Write(folder, preset.Config, weights, BuiltInModels.DemoVocabulary(), "test", fused);

        BuilderFolder read = LlamaFolderReader.Read(folder);

        Assert.Equal(fused, read.FusedProjections);
        Assert.Equal(preset.Config with { ContextLength = read.Config.ContextLength }, read.Config);
        AssertSameWeights(weights, read.Weights);
    }

    [Fact]
    public void Read_QuantizedFolder_IsRefusedNamingTheFloat32Source()
    {
        string folder = Path.Combine(_temp.Path, "fp32");
        DemoPresets.Write(DemoPresets.Tiny, folder);
        string quantized = Path.Combine(_temp.Path, "int8");
        ModelQuantizer.QuantizeFolder(folder, quantized, QuantizationOptions.Parse("int8-b32-asym-acc4"));

        var ex = Assert.Throws<InvalidDataException>(() => LlamaFolderReader.Read(quantized));

        Assert.Contains("quantized", ex.Message, StringComparison.Ordinal);
        Assert.Contains("float32 source", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_FolderWithoutOurArchitectureFile_IsRefused()
    {
        string folder = Path.Combine(_temp.Path, "foreign");
        DemoPresets.Write(DemoPresets.Tiny, folder);
        File.Delete(Path.Combine(folder, ModelFolder.ArchitectureFile));

        var ex = Assert.Throws<InvalidDataException>(() => LlamaFolderReader.Read(folder));

        Assert.Contains("not written by LlmAspire's builder", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UnscaleHeadNorm_LandsOnTheFloatTheBuilderScaled()
    {
        var random = new Random(7);
        float[] weight = [.. Enumerable.Range(0, 40).Select(_ => (float)(random.NextDouble() * 4 - 2))];
        float factor = MathF.Sqrt(40 / 48f);
        float[] scaled = [.. weight.Select(w => w * factor), .. new float[8]];

        float[] back = LlamaFolderReader.UnscaleHeadNorm(scaled, 40, 48);

        Assert.Equal(scaled[..40], back.Select(w => w * factor));
    }

    internal static void AssertSameWeights(LlamaWeights expected, LlamaWeights actual)
    {
        Assert.Equal(expected.TokenEmbedding, actual.TokenEmbedding);
        Assert.Equal(expected.FinalNorm, actual.FinalNorm);
        Assert.Equal(expected.Classifier, actual.Classifier);
        foreach ((string name, float[][]? e, float[][]? a) in new (string, float[][]?, float[][]?)[]
        {
            ("AttentionNorm", expected.AttentionNorm, actual.AttentionNorm), ("Wq", expected.Wq, actual.Wq), ("Wk", expected.Wk, actual.Wk),
            ("Wv", expected.Wv, actual.Wv), ("Wo", expected.Wo, actual.Wo), ("Bq", expected.Bq, actual.Bq), ("Bk", expected.Bk, actual.Bk),
            ("Bv", expected.Bv, actual.Bv), ("Bo", expected.Bo, actual.Bo), ("QNorm", expected.QNorm, actual.QNorm), ("KNorm", expected.KNorm, actual.KNorm),
            ("FfnNorm", expected.FfnNorm, actual.FfnNorm), ("PostAttentionNorm", expected.PostAttentionNorm, actual.PostAttentionNorm),
            ("PostFfnNorm", expected.PostFfnNorm, actual.PostFfnNorm), ("W1", expected.W1, actual.W1), ("W2", expected.W2, actual.W2), ("W3", expected.W3, actual.W3),
        })
        {
            Assert.True(e is null == a is null, $"{name}: present in one, absent in the other");
            for (int l = 0; e is not null && l < e.Length; l++)
            {
                Assert.True(e[l].AsSpan().SequenceEqual(a![l]), $"{name}[{l}] differs");
            }
        }
    }
}
