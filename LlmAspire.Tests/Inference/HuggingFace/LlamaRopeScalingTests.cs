using LlmAspire.Inference.Models;
using Xunit.Abstractions;

namespace LlmAspire.Tests.Inference.HuggingFace;

/// <summary>
/// Llama with scaled RoPE (Llama 3.1's llama3, linear, dynamic NTK) and attention_bias, imported from seeded random
/// checkpoints and checked against <see cref="ReferenceTransformer"/>. Heads of 8 (padded to 16 in the graph) have
/// wavelengths 6.3, 63, 628 and 6283 at theta 10000, so with an original context of 64 (of 128), low 1 and high 4 the
/// llama3 frequencies include one kept, one blended and two divided by the factor.
/// </summary>
public sealed class LlamaRopeScalingTests(ITestOutputHelper output)
{
    public static TheoryData<string, string, bool> Variants => new()
    {
        // rope_type, dtype, tied
        { "llama3", "F32", false },
        { "llama3", "BF16", true },
        { "linear", "F32", true },
        { "linear", "BF16", false },
    };

    [Theory]
    [MemberData(nameof(Variants))]
    public async Task Import_ScaledRope_LogitsAndGreedyTokensMatchTransformers(string ropeType, string dtype, bool tied)
    {
        LlamaConfig config = Llama(tied, context: ropeType == "llama3" ? 128 : 48) with
        {
            RopeScaling = ropeType == "llama3" ? new RopeScaling("llama3", 8, 1, 4, 64) : new RopeScaling("linear", 4),
        };
        LlamaWeights weights = HuggingFaceCheckpoint.RoundTrip(BuiltInModels.RandomWeights(config, seed: 31, scale: 0.2f), dtype);

        await ImportedModelVerifier.ImportAndVerifyAsync(output, config, weights, dtype, () => new ReferenceTransformer(config, weights), sharded: dtype == "BF16");
    }

    [Fact]
    public async Task Import_RopeParametersOfTransformers5_ReadLikeRopeScaling()
    {
        LlamaConfig config = Llama(tied: false, context: 128) with { RopeTheta = 500000f, RopeScaling = new RopeScaling("llama3", 8, 1, 4, 64) };
        LlamaWeights weights = BuiltInModels.RandomWeights(config, seed: 32, scale: 0.2f);
        var overrides = new Dictionary<string, object?>
        {
            ["rope_theta"] = null,
            ["rope_scaling"] = null,
            ["rope_parameters"] = new Dictionary<string, object>
            {
                ["rope_type"] = "llama3", ["rope_theta"] = 500000.0, ["factor"] = 8.0, ["low_freq_factor"] = 1.0, ["high_freq_factor"] = 4.0, ["original_max_position_embeddings"] = 64,
            },
        };

        await ImportedModelVerifier.ImportAndVerifyAsync(output, config, weights, "F32", () => new ReferenceTransformer(config, weights), configOverrides: overrides);
    }

    [Fact]
    public async Task Import_DynamicRope_IsPlainRopeUpToTheOriginalLengthWhichBecomesTheContext()
    {
        // transformers grows the NTK base only once a sequence outgrows max_position_embeddings, so within it the
        // frequencies are plain RoPE's; the import serves exactly that length.
        LlamaConfig config = Llama(tied: true) with { RopeScaling = new RopeScaling("dynamic", 2) };
        LlamaWeights weights = BuiltInModels.RandomWeights(config, seed: 33, scale: 0.2f);

        await ImportedModelVerifier.ImportAndVerifyAsync(
            output,
            config,
            weights,
            "F32",
            () => new ReferenceTransformer(config, weights),
            expected: config with { RopeScaling = new RopeScaling("dynamic", 2, OriginalMaxPositionEmbeddings: 48) });
    }

    [Fact]
    public async Task Import_DynamicRopeWithAShorterOriginalLength_ServesOnlyThatLength()
    {
        LlamaConfig config = Llama(tied: true) with { RopeScaling = new RopeScaling("dynamic", 2) };
        LlamaWeights weights = BuiltInModels.RandomWeights(config, seed: 34, scale: 0.2f);
        var overrides = new Dictionary<string, object?>
        {
            ["max_position_embeddings"] = 96,
            ["rope_scaling"] = new Dictionary<string, object> { ["rope_type"] = "dynamic", ["factor"] = 2.0, ["original_max_position_embeddings"] = 48 },
        };

        await ImportedModelVerifier.ImportAndVerifyAsync(
            output,
            config,
            weights,
            "F32",
            () => new ReferenceTransformer(config, weights, maxPositionEmbeddings: 48),
            configOverrides: overrides,
            expected: config with { RopeScaling = new RopeScaling("dynamic", 2, OriginalMaxPositionEmbeddings: 48) });
    }

    [Fact]
    public async Task Import_AttentionBias_AddsBiasesToQKVAndO()
    {
        LlamaConfig config = Llama(tied: false) with { QkvBias = true, OutputBias = true };
        LlamaWeights weights = HuggingFaceCheckpoint.RoundTrip(BuiltInModels.RandomWeights(config, seed: 35, scale: 0.2f), "BF16");

        await ImportedModelVerifier.ImportAndVerifyAsync(output, config, weights, "BF16", () => new ReferenceTransformer(config, weights));
    }

    [Fact]
    public void RopeScaling_Llama3_KeepsHighDividesLowAndBlendsTheMiddle()
    {
        double[] plain = RopeScaling.InverseFrequencies(10000, 8, null);
        double[] scaled = RopeScaling.InverseFrequencies(10000, 8, new RopeScaling("llama3", 8, 1, 4, 64));

        // Wavelength 2π (< 64 / 4) kept; 2π·10 between 16 and 64 blended with smooth = (64 / 62.83 - 1) / 3; the rest / 8.
        double smooth = (64 / (2 * Math.PI * 10) - 1) / 3;
        Assert.Equal(plain[0], scaled[0], 15);
        Assert.Equal((1 - smooth) * plain[1] / 8 + smooth * plain[1], scaled[1], 15);
        Assert.Equal(plain[2] / 8, scaled[2], 15);
        Assert.Equal(plain[3] / 8, scaled[3], 15);
    }

    private static LlamaConfig Llama(bool tied, int context = 48) =>
        new(Dim: 32, HiddenDim: 80, Layers: 2, Heads: 4, KvHeads: 2, VocabSize: 272, ContextLength: context, RopeTheta: 10000f, NormEpsilon: 1e-6f, TiedEmbeddings: tied);
}
