using LlmAspire.Inference.Models;
using Xunit.Abstractions;

namespace LlmAspire.Tests.Inference.HuggingFace;

/// <summary>
/// Mistral (<c>model_type: mistral</c>) with <c>sliding_window</c> set: every layer's queries see the last
/// sliding_window positions, themselves included, through GroupQueryAttention's local_window_size. Sequences run far
/// past the window: a prefill of 8 over a window of 4, decode to 14 positions, greedy generation to 29.
/// </summary>
public sealed class MistralSlidingWindowTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("F32", true)]
    [InlineData("BF16", false)]
    public async Task Import_SlidingWindow_EveryLayerSeesTheLastWindowPositions(string dtype, bool tied)
    {
        LlamaConfig config = Mistral(tied) with { SlidingWindow = 4 };
        LlamaWeights weights = HuggingFaceCheckpoint.RoundTrip(BuiltInModels.RandomWeights(config, seed: 61, scale: 0.3f), dtype);

        await ImportedModelVerifier.ImportAndVerifyAsync(output, config, weights, dtype, () => new ReferenceTransformer(config, weights, windows: [4, 4]), sharded: !tied, prefill: 8);
    }

    [Fact]
    public async Task Import_NullSlidingWindow_AttendsToEverything()
    {
        LlamaConfig config = Mistral(tied: false);
        LlamaWeights weights = BuiltInModels.RandomWeights(config, seed: 62, scale: 0.3f);

        await ImportedModelVerifier.ImportAndVerifyAsync(output, config, weights, "F32", () => new ReferenceTransformer(config, weights), prefill: 8);
    }

    [Fact]
    public async Task Import_WindowNoShorterThanTheContext_ChangesNothingAndIsDropped()
    {
        LlamaConfig config = Mistral(tied: true);
        LlamaWeights weights = BuiltInModels.RandomWeights(config, seed: 63, scale: 0.3f);

        await ImportedModelVerifier.ImportAndVerifyAsync(
            output, config, weights, "F32", () => new ReferenceTransformer(config, weights), configOverrides: new Dictionary<string, object?> { ["sliding_window"] = 4096 });
    }

    private static LlamaConfig Mistral(bool tied) =>
        new(Dim: 32, HiddenDim: 80, Layers: 2, Heads: 4, KvHeads: 1, VocabSize: 272, ContextLength: 48, RopeTheta: 10000f, NormEpsilon: 1e-5f, TiedEmbeddings: tied)
        {
            ModelType = "mistral",
        };
}
