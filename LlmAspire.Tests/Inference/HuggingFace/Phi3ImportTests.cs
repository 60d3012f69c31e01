using LlmAspire.Inference.Models;
using Xunit.Abstractions;

namespace LlmAspire.Tests.Inference.HuggingFace;

/// <summary>
/// Phi-3, Phi-3.5 and Phi-4-mini (<c>model_type: phi3</c>): q, k and v fused in <c>qkv_proj</c> and gate and up in
/// <c>gate_up_proj</c> (split by the importer), <c>partial_rotary_factor</c> (Phi-4-mini's 0.75 rotates the first three
/// quarters of each head and passes the rest through), <c>longrope</c> (once <c>su</c>) with its short factors and
/// attention factor up to <c>original_max_position_embeddings</c>, which becomes the served context, and
/// <c>sliding_window</c> on every layer. Imported from seeded random checkpoints and checked against
/// <see cref="ReferenceTransformer"/>.
/// </summary>
public sealed class Phi3ImportTests(ITestOutputHelper output)
{
    private static readonly double[] ShortFactor = [1.0, 1.25, 1.6, 2.5, 4.0, 7.0];
    private static readonly double[] LongFactor = [1.0, 3.0, 9.0, 20.0, 40.0, 64.0];

    public static TheoryData<string, bool, int, double> Variants => new()
    {
        // dtype, tied, hidden size (4 heads), partial_rotary_factor
        { "F32", false, 64, 1.0 },   // Phi-3-mini: whole heads of 16 rotate
        { "BF16", true, 64, 0.75 },  // Phi-4-mini: 12 of 16 dimensions rotate, 4 pass through
        { "F32", true, 32, 0.75 },   // heads of 8 padded to 16 in the graph: 6 rotate, 2 pass, 8 of padding
        { "BF16", false, 32, 0.5 },
    };

    [Theory]
    [MemberData(nameof(Variants))]
    public async Task Import_Phi3_FusedProjectionsAndPartialRotaryMatchTransformers(string dtype, bool tied, int dim, double partial)
    {
        LlamaConfig config = Phi3(tied, dim, partial);
        LlamaWeights weights = HuggingFaceCheckpoint.RoundTrip(BuiltInModels.RandomWeights(config, seed: 71 + dim, scale: 0.2f), dtype);

        await ImportedModelVerifier.ImportAndVerifyAsync(output, config, weights, dtype, () => new ReferenceTransformer(config, weights), sharded: !tied);
    }

    [Theory]
    [InlineData("longrope", "BF16")]
    [InlineData("su", "F32")]
    public async Task Import_LongRope_ShortFactorsAndAttentionFactorUpToTheOriginalLength(string type, string dtype)
    {
        // max_position_embeddings 96 over an original 48: factor 2, attention factor sqrt(1 + ln 2 / ln 48) on cos and sin.
        LlamaConfig config = Phi3(tied: false, dim: 64, partial: 0.75);
        LlamaWeights weights = HuggingFaceCheckpoint.RoundTrip(BuiltInModels.RandomWeights(config, seed: 75, scale: 0.2f), dtype);
        var overrides = new Dictionary<string, object?>
        {
            ["max_position_embeddings"] = 96,
            ["original_max_position_embeddings"] = 48,
            ["rope_scaling"] = new Dictionary<string, object> { ["type"] = type, ["short_factor"] = ShortFactor, ["long_factor"] = LongFactor },
        };
        LlamaConfig expected = config with
        {
            RopeScaling = new RopeScaling("longrope", 2, OriginalMaxPositionEmbeddings: 48)
            {
                ShortFactor = ShortFactor,
                AttentionFactor = Math.Sqrt(1 + Math.Log(2) / Math.Log(48)),
            },
        };

        await ImportedModelVerifier.ImportAndVerifyAsync(
            output,
            config,
            weights,
            dtype,
            () => new ReferenceTransformer(config, weights, longRope: new LongRope(ShortFactor, LongFactor, 48, 96)),
            sharded: true,
            configOverrides: overrides,
            expected: expected);
    }

    [Fact]
    public async Task Import_LongRopeWithAttentionFactor_UsesTheGivenFactor()
    {
        // Without a longer max_position_embeddings the factor is 1: cos and sin are only scaled by an explicit attention_factor.
        LlamaConfig config = Phi3(tied: true, dim: 64, partial: 1.0);
        LlamaWeights weights = BuiltInModels.RandomWeights(config, seed: 76, scale: 0.2f);
        double[] shortFactor = [1.0, 1.1, 1.3, 1.7, 2.0, 3.0, 5.0, 8.0];
        var overrides = new Dictionary<string, object?>
        {
            ["rope_scaling"] = new Dictionary<string, object>
            {
                ["rope_type"] = "longrope", ["short_factor"] = shortFactor, ["long_factor"] = shortFactor, ["attention_factor"] = 1.1,
            },
        };
        LlamaConfig expected = config with
        {
            RopeScaling = new RopeScaling("longrope", 1, OriginalMaxPositionEmbeddings: 48) { ShortFactor = shortFactor, AttentionFactor = 1.1 },
        };

        await ImportedModelVerifier.ImportAndVerifyAsync(
            output,
            config,
            weights,
            "F32",
            () => new ReferenceTransformer(config with { RopeScaling = null }, weights, longRope: new LongRope(shortFactor, shortFactor, 48, 48), attentionFactor: 1.1),
            configOverrides: overrides,
            expected: expected);
    }

    [Fact]
    public async Task Import_SlidingWindow_EveryLayerSeesTheLastWindowPositions()
    {
        // Phi-3-mini-4k's sliding_window (2047 of 4096) shrunk to 5 of 48.
        LlamaConfig config = Phi3(tied: false, dim: 64, partial: 1.0) with { SlidingWindow = 5 };
        LlamaWeights weights = BuiltInModels.RandomWeights(config, seed: 77, scale: 0.3f);

        await ImportedModelVerifier.ImportAndVerifyAsync(output, config, weights, "F32", () => new ReferenceTransformer(config, weights, windows: [5, 5]), prefill: 8);
    }

    private static LlamaConfig Phi3(bool tied, int dim, double partial) =>
        new(Dim: dim, HiddenDim: 80, Layers: 2, Heads: 4, KvHeads: 2, VocabSize: 272, ContextLength: 48, RopeTheta: 10000f, NormEpsilon: 1e-5f, TiedEmbeddings: tied)
        {
            ModelType = "phi3",
            RotaryDim = partial == 1.0 ? 0 : (int)(dim / 4 * partial),
        };
}
