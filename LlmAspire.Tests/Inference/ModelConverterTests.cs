using LlmAspire.Inference;
using LlmAspire.Inference.Engine;
using LlmAspire.Inference.Models;

namespace LlmAspire.Tests.Inference;

public sealed class ModelConverterTests
{
    private const float Tolerance = 1e-4f;

    public static TheoryData<bool, int, int> Shapes => new()
    {
        // tied classifier, heads, kv heads
        { true, 4, 2 },
        { false, 4, 4 },
        { true, 8, 2 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Convert_RandomCheckpoint_OnnxLogitsMatchReferenceAtEveryPositionAndDecodeStep(bool tied, int heads, int kvHeads)
    {
        var config = new LlamaConfig(Dim: 32, HiddenDim: 72, Layers: 2, Heads: heads, KvHeads: kvHeads, VocabSize: BuiltInModels.DemoConfig.VocabSize, ContextLength: 64, TiedEmbeddings: tied);
        LlamaWeights weights = BuiltInModels.RandomWeights(config, seed: 7, scale: 0.2f);
        using var temp = TestPaths.CreateTempDirectory();
        string checkpoint = Path.Combine(temp.Path, "random.bin");
        string tokenizer = Path.Combine(temp.Path, "tokenizer.bin");
        Llama2cCheckpoint.Write(checkpoint, config, weights);
        BuiltInModels.DemoVocabulary().WriteLlama2c(tokenizer);
        string folder = Path.Combine(temp.Path, "model");

        ModelConverter.ConvertLlama2c(checkpoint, tokenizer, folder);

        int[] tokens = [1, 300, 17, 42, 260, 99, 5, 311, 200, 3, 77, 128];
        var reference = new ReferenceLlama(config, weights);
        float[][] expected = [.. tokens.Select(reference.Forward)];

        using LanguageModel model = LanguageModel.Load(folder, ExecutionProviderPreference.Cpu);
        Assert.Equal(config, model.Config);

        // Prefill of the first 7 tokens: logits at every position.
        using DecoderState state = model.Decoder.CreateState();
        float[] prefill = model.Decoder.Forward(state, tokens.AsSpan(0, 7), allPositions: true);
        for (int p = 0; p < 7; p++)
        {
            AssertClose(expected[p], prefill.AsSpan(p * config.VocabSize, config.VocabSize), $"prefill position {p}");
        }

        // A chunk of 2 on top of the cache, then single-token decode steps.
        float[] chunk = model.Decoder.Forward(state, tokens.AsSpan(7, 2), allPositions: true);
        AssertClose(expected[7], chunk.AsSpan(0, config.VocabSize), "chunk position 7");
        AssertClose(expected[8], chunk.AsSpan(config.VocabSize, config.VocabSize), "chunk position 8");
        for (int p = 9; p < tokens.Length; p++)
        {
            float[] step = model.Decoder.Forward(state, tokens.AsSpan(p, 1));
            AssertClose(expected[p], step, $"decode position {p}");
        }

        Assert.Equal(tokens.Length, state.Length);
    }

    [Stories260KFact]
    public void Read_TruncatedCheckpoint_ThrowsClearError()
    {
        using var temp = TestPaths.CreateTempDirectory();
        byte[] bytes = File.ReadAllBytes(TestPaths.Stories260KCheckpoint);
        string truncated = Path.Combine(temp.Path, "truncated.bin");
        File.WriteAllBytes(truncated, bytes[..(bytes.Length / 2)]);

        var error = Assert.Throws<InvalidDataException>(() => Llama2cCheckpoint.Read(truncated));
        Assert.Contains("ends early", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_GarbageHeader_ThrowsClearError()
    {
        using var temp = TestPaths.CreateTempDirectory();
        string garbage = Path.Combine(temp.Path, "garbage.bin");
        File.WriteAllBytes(garbage, [.. Enumerable.Repeat((byte)0xFF, 64)]);

        var error = Assert.Throws<InvalidDataException>(() => Llama2cCheckpoint.Read(garbage));
        Assert.Contains("Not a llama2.c checkpoint", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_FolderWithoutModel_ThrowsNamingTheMissingFile()
    {
        using var temp = TestPaths.CreateTempDirectory();
        var error = Assert.Throws<FileNotFoundException>(() => LanguageModel.Load(temp.Path, ExecutionProviderPreference.Cpu));
        Assert.Contains("genai_config.json", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_AutoWithoutCuda_FallsBackToCpuAndSaysWhy()
    {
        using var temp = TestPaths.CreateTempDirectory();
        string folder = BuiltInModels.EnsureDemoFolder(temp.Path);

        using LanguageModel model = LanguageModel.Load(folder, ExecutionProviderPreference.Auto);

        // The test host carries the CPU-only runtime, so CUDA cannot be appended.
        Assert.Equal("cpu", model.ExecutionProvider);
        Assert.False(string.IsNullOrWhiteSpace(model.FallbackReason));
        Assert.Equal(BuiltInModels.DemoName, model.Id);
    }

    private static void AssertClose(float[] expected, ReadOnlySpan<float> actual, string where)
    {
        Assert.Equal(expected.Length, actual.Length);
        float worst = 0;
        int worstAt = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            float diff = Math.Abs(expected[i] - actual[i]);
            if (diff > worst)
            {
                worst = diff;
                worstAt = i;
            }
        }

        Assert.True(worst <= Tolerance, $"{where}: logit {worstAt} differs by {worst} (expected {expected[worstAt]}, got {actual[worstAt]}).");
    }
}
