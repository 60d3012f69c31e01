using LlmAspire.Inference.Models;
using Xunit.Abstractions;

namespace LlmAspire.Tests.Inference.HuggingFace;

/// <summary>
/// Qwen3 (<c>model_type: qwen3</c>): per-head RMSNorm of queries and keys (q_norm / k_norm, weights of head_dim) before
/// the rotary embedding, an explicit head_dim unrelated to hidden_size / num_attention_heads (so o_proj reads
/// heads × head_dim), no biases unless <c>attention_bias</c>. Imported from seeded random checkpoints and checked
/// against <see cref="ReferenceTransformer"/>.
/// </summary>
public sealed class Qwen3ImportTests(ITestOutputHelper output)
{
    public static TheoryData<string, bool, int> Variants => new()
    {
        // dtype, tied, head_dim
        { "F32", true, 16 },   // 4 heads of 16 = 64 query features from a hidden size of 32
        { "BF16", false, 16 },
        { "F32", false, 24 },  // padded to 32 in the graph: the per-head norm must ignore the padding
        { "BF16", true, 8 },   // head_dim equal to hidden_size / heads, written explicitly as Qwen3 configs do
    };

    [Theory]
    [MemberData(nameof(Variants))]
    public async Task Import_Qwen3_HeadNormsAndHeadDimMatchTransformers(string dtype, bool tied, int headDim)
    {
        LlamaConfig config = Qwen3(tied, headDim);
        LlamaWeights weights = HuggingFaceCheckpoint.RoundTrip(BuiltInModels.RandomWeights(config, seed: 51 + headDim, scale: 0.2f), dtype);

        await ImportedModelVerifier.ImportAndVerifyAsync(output, config, weights, dtype, () => new ReferenceTransformer(config, weights), sharded: !tied);
    }

    [Fact]
    public async Task Import_AttentionBias_AddsBiasesToQKVAndO()
    {
        LlamaConfig config = Qwen3(tied: false, headDim: 16) with { QkvBias = true, OutputBias = true };
        LlamaWeights weights = BuiltInModels.RandomWeights(config, seed: 55, scale: 0.2f);

        await ImportedModelVerifier.ImportAndVerifyAsync(output, config, weights, "F32", () => new ReferenceTransformer(config, weights));
    }

    [Fact]
    public async Task Import_UseSlidingWindow_WindowsTheLaterLayers()
    {
        LlamaConfig config = Qwen3(tied: true, headDim: 16) with { SlidingWindow = 6, FirstSlidingLayer = 1 };
        LlamaWeights weights = BuiltInModels.RandomWeights(config, seed: 56, scale: 0.3f);

        await ImportedModelVerifier.ImportAndVerifyAsync(output, config, weights, "F32", () => new ReferenceTransformer(config, weights, windows: [0, 6]), prefill: 8);
    }

    private static LlamaConfig Qwen3(bool tied, int headDim) =>
        new(Dim: 32, HiddenDim: 80, Layers: 2, Heads: 4, KvHeads: 2, VocabSize: 272, ContextLength: 48, RopeTheta: 1000000f, NormEpsilon: 1e-6f, TiedEmbeddings: tied)
        {
            ModelType = "qwen3",
            HeadDim = headDim == 32 / 4 ? 0 : headDim,
            QkNorm = true,
        };
}
