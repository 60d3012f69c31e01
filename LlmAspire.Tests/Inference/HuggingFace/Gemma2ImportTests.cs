using LlmAspire.Inference.Models;
using Xunit.Abstractions;

namespace LlmAspire.Tests.Inference.HuggingFace;

/// <summary>
/// Gemma 2 (<c>model_type: gemma2</c>): RMSNorm × (1 + w), embeddings × √hidden_size (the normalizer in the checkpoint's
/// dtype), four norms per layer (input, post-attention, pre-feed-forward, post-feed-forward), GeGLU with the tanh
/// approximation, attention logit soft-capping (GroupQueryAttention's softcap), final logit soft-capping after lm_head,
/// the attention scale query_pre_attn_scalar^-0.5, a sliding window on the even layers, tied embeddings. Imported from
/// seeded random checkpoints and checked against <see cref="ReferenceTransformer"/>.
/// </summary>
public sealed class Gemma2ImportTests(ITestOutputHelper output)
{
    public static TheoryData<string, bool, int> Variants => new()
    {
        // dtype, tied, hidden size (√48 = 6.928 becomes 6.9375 in bfloat16; √64 = 8 is exact)
        { "F32", true, 48 },
        { "BF16", true, 48 },
        { "BF16", false, 64 },
    };

    [Theory]
    [MemberData(nameof(Variants))]
    public async Task Import_Gemma2_NormsSoftcapsAndGeGluMatchTransformers(string dtype, bool tied, int dim)
    {
        LlamaConfig config = Gemma2(tied, dim, dtype);
        LlamaWeights weights = HuggingFaceCheckpoint.RoundTrip(BuiltInModels.RandomWeights(config, seed: 81 + dim, scale: 0.3f), dtype);

        await ImportedModelVerifier.ImportAndVerifyAsync(output, config, weights, dtype, () => new ReferenceTransformer(config, weights), sharded: !tied);
    }

    [Fact]
    public async Task Import_SlidingWindow_OnlyTheEvenLayersSlide()
    {
        // Four layers, a window of 4 over sequences of 14 and 29 positions: layers 0 and 2 see the last 4, 1 and 3 everything.
        LlamaConfig config = Gemma2(tied: true, dim: 48, "F32") with { Layers = 4, SlidingWindow = 4, AlternatingSlidingWindow = true };
        LlamaWeights weights = BuiltInModels.RandomWeights(config, seed: 85, scale: 0.3f);
        var overrides = new Dictionary<string, object?> { ["layer_types"] = new[] { "sliding_attention", "full_attention", "sliding_attention", "full_attention" } };

        await ImportedModelVerifier.ImportAndVerifyAsync(
            output, config, weights, "F32", () => new ReferenceTransformer(config, weights, windows: [4, 0, 4, 0]), configOverrides: overrides, prefill: 8);
    }

    [Fact]
    public async Task Import_NullSoftcaps_AreNone()
    {
        LlamaConfig config = Gemma2(tied: true, dim: 48, "F32") with { AttentionSoftcap = 0, FinalLogitSoftcap = 0 };
        LlamaWeights weights = BuiltInModels.RandomWeights(config, seed: 86, scale: 0.3f);

        await ImportedModelVerifier.ImportAndVerifyAsync(output, config, weights, "F32", () => new ReferenceTransformer(config, weights));
    }

    private static LlamaConfig Gemma2(bool tied, int dim, string dtype) =>
        new(Dim: dim, HiddenDim: 96, Layers: 2, Heads: 4, KvHeads: 2, VocabSize: 272, ContextLength: 48, RopeTheta: 10000f, NormEpsilon: 1e-6f, TiedEmbeddings: tied)
        {
            ModelType = "gemma2",
            HeadDim = 16 == dim / 4 ? 0 : 16,
            HiddenAct = "gelu_pytorch_tanh",
            SandwichNorms = true,
            EmbeddingMultiplier = SafeTensorsWriter.RoundTrip((float)Math.Sqrt(dim), dtype),
            QueryPreAttnScalar = 24,
            AttentionSoftcap = 1.5f,
            FinalLogitSoftcap = 10f, // bends logits of a few units without saturating them into near-ties
        };
}
