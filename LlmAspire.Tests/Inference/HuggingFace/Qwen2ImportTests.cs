using LlmAspire.Inference.Models;
using Xunit.Abstractions;

namespace LlmAspire.Tests.Inference.HuggingFace;

/// <summary>
/// Qwen2 / Qwen2.5 (<c>model_type: qwen2</c>): q/k/v projections with biases, o_proj without; tied or separate
/// embeddings; a sliding window on the layers from <c>max_window_layers</c> on, only with <c>use_sliding_window</c>.
/// Imported from seeded random checkpoints and checked against <see cref="ReferenceTransformer"/>.
/// </summary>
public sealed class Qwen2ImportTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("F32", true)]
    [InlineData("BF16", false)]
    public async Task Import_Qwen2_BiasedProjectionsMatchTransformers(string dtype, bool tied)
    {
        LlamaConfig config = Qwen2(tied);
        LlamaWeights weights = HuggingFaceCheckpoint.RoundTrip(BuiltInModels.RandomWeights(config, seed: 41, scale: 0.2f), dtype);

        await ImportedModelVerifier.ImportAndVerifyAsync(output, config, weights, dtype, () => new ReferenceTransformer(config, weights), sharded: !tied);
    }

    [Fact]
    public async Task Import_UseSlidingWindow_WindowsTheLayersFromMaxWindowLayersOn()
    {
        // Window 5 on layer 1 of 2, over sequences of 14 and 29 positions: layer 0 sees everything, layer 1 the last 5.
        LlamaConfig config = Qwen2(tied: true) with { SlidingWindow = 5, FirstSlidingLayer = 1 };
        LlamaWeights weights = BuiltInModels.RandomWeights(config, seed: 42, scale: 0.3f);

        await ImportedModelVerifier.ImportAndVerifyAsync(output, config, weights, "F32", () => new ReferenceTransformer(config, weights, windows: [0, 5]), prefill: 8);
    }

    [Fact]
    public async Task Import_LayerTypes_OverrideMaxWindowLayers()
    {
        LlamaConfig config = Qwen2(tied: false) with { SlidingWindow = 4, FirstSlidingLayer = 0 };
        LlamaWeights weights = BuiltInModels.RandomWeights(config, seed: 43, scale: 0.3f);
        var overrides = new Dictionary<string, object?> { ["max_window_layers"] = 28, ["layer_types"] = new[] { "sliding_attention", "sliding_attention" } };

        await ImportedModelVerifier.ImportAndVerifyAsync(output, config, weights, "F32", () => new ReferenceTransformer(config, weights, windows: [4, 4]), configOverrides: overrides, prefill: 8);
    }

    [Fact]
    public async Task Import_SlidingWindowWithoutUseSlidingWindow_IsIgnored()
    {
        // Qwen2.5's own configs carry sliding_window with use_sliding_window false: every layer attends to everything.
        LlamaConfig config = Qwen2(tied: true);
        LlamaWeights weights = BuiltInModels.RandomWeights(config, seed: 44, scale: 0.3f);
        var overrides = new Dictionary<string, object?> { ["use_sliding_window"] = false, ["sliding_window"] = 4, ["max_window_layers"] = 0 };

        await ImportedModelVerifier.ImportAndVerifyAsync(output, config, weights, "F32", () => new ReferenceTransformer(config, weights), configOverrides: overrides, prefill: 8);
    }

    private static LlamaConfig Qwen2(bool tied) =>
        new(Dim: 32, HiddenDim: 80, Layers: 2, Heads: 4, KvHeads: 2, VocabSize: 272, ContextLength: 48, RopeTheta: 1000000f, NormEpsilon: 1e-6f, TiedEmbeddings: tied)
        {
            ModelType = "qwen2",
            QkvBias = true,
        };
}
