using LlmAspire.Inference.Models;
using LlmAspire.Inference.Models.Gguf;
using LlmAspire.Tests.Inference.HuggingFace;
using Xunit.Abstractions;

namespace LlmAspire.Tests.Inference.Gguf;

/// <summary>
/// Seeded random checkpoints of each architecture, written as llama.cpp's converter writes GGUF (llama's q/k permuted,
/// Gemma's norms + 1, Phi-3's projections fused; weights in F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q5_K or Q6_K), imported and
/// checked against <see cref="ReferenceTransformer"/> run on the values the file holds: logits within 1e-4 at every
/// position, 20 greedy tokens equal through the engine.
/// </summary>
public sealed class GgufImportTests(ITestOutputHelper output)
{
    public static TheoryData<string, bool> LlamaTypes => new()
    {
        { "F32", true },
        { "F16", false },
        { "BF16", true },
        { "Q8_0", false },
        { "Q4_0", true },
    };

    [Theory]
    [MemberData(nameof(LlamaTypes))]
    public async Task Import_Llama_PermutedRowsAreUsedAsStored(string type, bool tied)
    {
        LlamaConfig config = Small("llama", tied, dim: 64, hidden: 128);
        await VerifyAsync(config, BuiltInModels.RandomWeights(config, seed: 101, scale: 0.2f), Enum.Parse<GgmlType>(type));
    }

    [Theory]
    [InlineData("Q4_K")]
    [InlineData("Q5_K")]
    [InlineData("Q6_K")]
    public async Task Import_KQuants_DequantizeToTheValuesTheBlocksHold(string type)
    {
        // Rows of 256 values: one K-quant super-block each (the embedding, q/k/v/o, gate/up and down).
        LlamaConfig config = Small("llama", tied: true, dim: 256, hidden: 256) with { Heads = 4, KvHeads = 2 };
        await VerifyAsync(config, BuiltInModels.RandomWeights(config, seed: 102, scale: 0.1f), Enum.Parse<GgmlType>(type));
    }

    [Fact]
    public async Task Import_Llama31RopeFreqs_AreThePerPairDivisors()
    {
        // Llama 3.1 scaling, which the converter bakes into rope_freqs.weight (factor 8 over an original 16 positions).
        LlamaConfig config = Small("llama", tied: true, dim: 64, hidden: 128) with { RopeTheta = 500000f, RopeScaling = new RopeScaling("llama3", 8, 1, 4, 16) };
        LlamaWeights weights = BuiltInModels.RandomWeights(config, seed: 103, scale: 0.2f);
        float[] factors = Llama3RopeFactors(config.RopeTheta, config.HeadSize, config.RopeScaling!);
        LlamaConfig expected = config with
        {
            RopeScaling = new RopeScaling("longrope", 1, OriginalMaxPositionEmbeddings: config.ContextLength) { ShortFactor = [.. factors.Select(f => (double)f)] },
        };

        await VerifyAsync(config, weights, GgmlType.F32, expected, c => c.Writer.AddTensor("rope_freqs.weight", [factors.Length], GgmlType.F32, GgmlEncoder.Encode(factors, GgmlType.F32).Bytes));
    }

    [Fact]
    public async Task Import_LlamaWithSlidingWindow_IsMistral()
    {
        LlamaConfig config = Small("mistral", tied: false, dim: 64, hidden: 128) with { SlidingWindow = 5 };
        await VerifyAsync(config, BuiltInModels.RandomWeights(config, seed: 104, scale: 0.3f), GgmlType.Q8_0, prefill: 8, windows: [5, 5]);
    }

    [Theory]
    [InlineData("F32", true)]
    [InlineData("Q8_0", false)]
    public async Task Import_Qwen2_BiasesAndNeoxRowsMatchTransformers(string type, bool tied)
    {
        LlamaConfig config = Small("qwen2", tied, dim: 64, hidden: 128) with { QkvBias = true, RopeTheta = 1000000f };
        await VerifyAsync(config, BuiltInModels.RandomWeights(config, seed: 105, scale: 0.2f), Enum.Parse<GgmlType>(type));
    }

    [Fact]
    public async Task Import_Qwen3_QkNormsAndKeyLength()
    {
        LlamaConfig config = Small("qwen3", tied: true, dim: 32, hidden: 64) with { HeadDim = 16, QkNorm = true, RopeTheta = 1000000f };
        await VerifyAsync(config, BuiltInModels.RandomWeights(config, seed: 106, scale: 0.3f), GgmlType.F32);
    }

    [Theory]
    [InlineData(1.0, "F32")]
    [InlineData(0.75, "BF16")]
    public async Task Import_Phi3_FusedTensorsAndPartialRotary(double partial, string type)
    {
        LlamaConfig config = Small("phi3", tied: false, dim: 64, hidden: 128);
        config = config with { RotaryDim = partial == 1.0 ? 0 : (int)(config.HeadSize * partial) };
        await VerifyAsync(config, BuiltInModels.RandomWeights(config, seed: 107, scale: 0.2f), Enum.Parse<GgmlType>(type));
    }

    [Fact]
    public async Task Import_Phi3LongRope_ShortFactorsAndAttentionFactorUpToTheOriginalLength()
    {
        double[] shortFactor = [1.0, 1.25, 1.6, 2.5, 4.0, 7.0], longFactor = [1.0, 3.0, 9.0, 20.0, 40.0, 64.0];
        LlamaConfig config = Small("phi3", tied: false, dim: 64, hidden: 128) with { RotaryDim = 12 };
        LlamaWeights weights = BuiltInModels.RandomWeights(config, seed: 108, scale: 0.2f);
        double attention = Math.Sqrt(1 + Math.Log(2) / Math.Log(48));
        LlamaConfig expected = config with
        {
            // The file holds the factors as float32.
            RopeScaling = new RopeScaling("longrope", 2, OriginalMaxPositionEmbeddings: 48)
            {
                ShortFactor = [.. shortFactor.Select(f => (double)(float)f)],
                AttentionFactor = (float)attention,
            },
        };

        await VerifyAsync(
            config,
            weights,
            GgmlType.F32,
            expected,
            c => c.Writer
                .Add("phi3.context_length", 96u)
                .Add("phi3.rope.scaling.original_context_length", 48u)
                .Add("phi3.rope.scaling.attn_factor", (float)attention)
                .AddTensor("rope_factors_short.weight", [6], GgmlType.F32, GgmlEncoder.Encode([.. shortFactor.Select(f => (float)f)], GgmlType.F32).Bytes)
                .AddTensor("rope_factors_long.weight", [6], GgmlType.F32, GgmlEncoder.Encode([.. longFactor.Select(f => (float)f)], GgmlType.F32).Bytes),
            reference: w => new ReferenceTransformer(config, w, longRope: new LongRope(shortFactor, longFactor, 48, 96)));
    }

    [Theory]
    [InlineData("F32", 0)]
    [InlineData("Q8_0", 4)]
    public async Task Import_Gemma2_NormsPlusOneSoftcapsAndAlternatingWindow(string type, int window)
    {
        LlamaConfig config = Small("gemma2", tied: true, dim: 64, hidden: 128) with
        {
            Layers = window > 0 ? 4 : 2,
            HeadDim = 32,
            HiddenAct = "gelu_pytorch_tanh",
            SandwichNorms = true,
            EmbeddingMultiplier = MathF.Sqrt(64),
            QueryPreAttnScalar = 32,
            AttentionSoftcap = 1.5f,
            FinalLogitSoftcap = 10f,
            SlidingWindow = window,
            AlternatingSlidingWindow = window > 0,
        };
        int[]? windows = window > 0 ? [window, 0, window, 0] : null;
        await VerifyAsync(config, BuiltInModels.RandomWeights(config, seed: 109, scale: 0.3f), Enum.Parse<GgmlType>(type), prefill: 8, windows: windows);
    }

    internal static LlamaConfig Small(string arch, bool tied, int dim, int hidden) =>
        new(Dim: dim, HiddenDim: hidden, Layers: 2, Heads: 4, KvHeads: 2, VocabSize: 272, ContextLength: 48, RopeTheta: 10000f, NormEpsilon: 1e-6f, TiedEmbeddings: tied)
        {
            ModelType = arch,
        };

    /// <summary>convert_hf_to_gguf.py's LlamaModel.generate_extra_tensors for rope_type llama3, in float32 as it stores them.</summary>
    internal static float[] Llama3RopeFactors(double theta, int headSize, RopeScaling s)
    {
        double lowWavelength = s.OriginalMaxPositionEmbeddings / s.LowFreqFactor, highWavelength = s.OriginalMaxPositionEmbeddings / s.HighFreqFactor;
        return [.. Enumerable.Range(0, headSize / 2).Select(i =>
        {
            double wavelength = 2 * Math.PI * Math.Pow(theta, 2.0 * i / headSize);
            double smooth = (s.OriginalMaxPositionEmbeddings / wavelength - s.LowFreqFactor) / (s.HighFreqFactor - s.LowFreqFactor);
            return (float)(wavelength < highWavelength ? 1 : wavelength > lowWavelength ? s.Factor : 1 / ((1 - smooth) / s.Factor + smooth));
        })];
    }

    private Task<double> VerifyAsync(
        LlamaConfig config,
        LlamaWeights weights,
        GgmlType type,
        LlamaConfig? expected = null,
        Action<GgufCheckpoint>? change = null,
        Func<LlamaWeights, ReferenceTransformer>? reference = null,
        int prefill = 6,
        int[]? windows = null)
    {
        // The reference runs on what the file holds; the end-of-sequence id is only known once the reference has run.
        GgufCheckpoint probe = GgufCheckpoint.Create(config, weights, type);
        LlamaWeights written = probe.Written;
        return ImportedModelVerifier.VerifyImportAsync(
            output,
            config,
            () => reference?.Invoke(written) ?? new ReferenceTransformer(config, written, windows: windows),
            (directory, eos) =>
            {
                GgufCheckpoint checkpoint = GgufCheckpoint.Create(config, weights, type, eos);
                change?.Invoke(checkpoint);
                string file = Path.Combine(directory, "model.gguf");
                checkpoint.Write(file);
                string folder = Path.Combine(directory, "model");
                return (GgufImporter.Import(file, folder), folder);
            },
            $"GGUF {config.ModelType} {type}",
            expected,
            prefill);
    }
}
