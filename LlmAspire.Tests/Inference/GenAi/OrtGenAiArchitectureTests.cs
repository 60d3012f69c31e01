using LlmAspire.Inference;
using LlmAspire.Inference.Engine;
using LlmAspire.Inference.Models;
using LlmAspire.Tests.Inference.HuggingFace;
using Xunit.Abstractions;

namespace LlmAspire.Tests.Inference.GenAi;

/// <summary>
/// ONNX Runtime GenAI 0.18 (CPU) as a peer for every architecture we import: a seeded random Hugging Face checkpoint
/// of the architecture, with its distinguishing features on (<see cref="DemoPresets"/>' tiny shape, windows shrunk to 8
/// positions so they bite within the generation), is imported; GenAI loads the folder with its genai_config.json
/// <c>model.type</c> and must produce our engine's greedy token ids.
/// </summary>
public sealed class OrtGenAiArchitectureTests(ITestOutputHelper output)
{
    private const int Steps = 24;
    private static readonly int[] Prompt = [1, 40, 7, 63, 12, 5];

    public static TheoryData<string> Architectures => [.. DemoPresets.Architectures];

    [Theory]
    [MemberData(nameof(Architectures))]
    public void GenAi_LoadsOurImportOfTheArchitecture_AndItsGreedyTokensEqualOurs(string architecture)
    {
        LlamaConfig preset = DemoPresets.Get("tiny", architecture).Config;
        LlamaConfig config = preset with { ContextLength = 64, SlidingWindow = preset.SlidingWindow > 0 ? 8 : 0 };
        LlamaWeights weights = BuiltInModels.RandomWeights(config, seed: 118, scale: 0.3f);
        weights = config.SandwichNorms ? HuggingFaceCheckpoint.GemmaConventions(weights, config.EmbeddingMultiplier) : weights;
        using var temp = TestPaths.CreateTempDirectory();
        string source = Path.Combine(temp.Path, "hf"), folder = Path.Combine(temp.Path, "model");
        int eos = config.VocabSize - 1;
        HuggingFaceCheckpoint.Write(source, config, weights, "F32", eos: [eos], gemma3Prefix: architecture == "gemma3" ? "language_model.model." : null);

        LlamaConfig imported = ModelConverter.ImportHuggingFace(source, folder);
        Assert.Equal(config, imported);

        using LanguageModel ours = LanguageModel.Load(folder, ExecutionProviderPreference.Cpu);
        List<int> ourTokens = OrtGenAiPeerTests.GreedyTokens(ours, Prompt, Steps);
        int[] theirs = OrtGenAiPeerTests.GenAiGreedy(folder, Prompt, Prompt.Length + Steps);

        Assert.Equal(Steps, ourTokens.Count);
        Assert.True(ourTokens.Distinct().Count() >= Steps / 3, $"a degenerate generation says little: {string.Join(' ', ourTokens)}");
        Assert.Equal(Prompt, theirs[..Prompt.Length]);
        Assert.Equal(ourTokens, theirs[Prompt.Length..]);
        output.WriteLine($"{architecture} (genai type {ModelFolder.ReadConfig(folder).GenAi.Model.Type}): {Steps} greedy tokens equal: {string.Join(' ', ourTokens)}");
    }
}
