using LlmAspire.Inference.Models;
using LlmAspire.Inference.Models.HuggingFace;
using Xunit.Abstractions;

namespace LlmAspire.Tests.Inference.HuggingFace;

/// <summary>
/// Gemma 3's decoder (<c>model_type: gemma3_text</c>, or the text_config and <c>language_model</c> weights of a
/// <c>gemma3</c> folder): Gemma 2's four (1 + w) norms, GeGLU and √hidden_size embeddings, per-head q_norm/k_norm,
/// query_pre_attn_scalar, softcaps null by default, and local layers (five of every six) that slide over
/// <c>sliding_window</c> and rotate with <c>rope_local_base_freq</c> while the global ones use <c>rope_theta</c> and
/// <c>rope_scaling</c>. Imported from seeded random checkpoints and checked against <see cref="ReferenceTransformer"/>.
/// </summary>
public sealed class Gemma3ImportTests(ITestOutputHelper output)
{
    public static TheoryData<string, bool, int, string?> Variants => new()
    {
        // dtype, tied, hidden size (√48 = 6.928 becomes 6.9375 in bfloat16), where a gemma3 folder keeps the decoder
        { "F32", true, 48, null },
        { "BF16", true, 48, null },
        { "BF16", false, 64, null },
        { "BF16", true, 48, "language_model.model." },
        { "F32", false, 64, "model.language_model." },
    };

    [Theory]
    [MemberData(nameof(Variants))]
    public async Task Import_Gemma3_LocalAndGlobalLayersMatchTransformers(string dtype, bool tied, int dim, string? gemma3Prefix)
    {
        // Four layers, a pattern of 3: layers 0, 1 and 3 slide over 4 positions with base 10,000; layer 2 sees everything with base 10⁶ / 8.
        LlamaConfig config = Gemma3(tied, dim, dtype);
        LlamaWeights weights = HuggingFaceCheckpoint.RoundTrip(BuiltInModels.RandomWeights(config, seed: 91 + dim, scale: 0.3f), dtype);

        await ImportedModelVerifier.ImportAndVerifyAsync(
            output, config, weights, dtype, () => Reference(config, weights), sharded: !tied, gemma3Prefix: gemma3Prefix, prefill: 8);
    }

    [Fact]
    public async Task Import_LayerTypes_GlobalEverySixthLayer()
    {
        // transformers 4.53+ writes layer_types; seven layers: 5 is global, 6 local again.
        LlamaConfig config = Gemma3(tied: true, dim: 48, "F32") with { Layers = 7, SlidingWindowPattern = 6 };
        LlamaWeights weights = BuiltInModels.RandomWeights(config, seed: 95, scale: 0.3f);
        string[] types = [.. Enumerable.Range(0, 7).Select(i => i == 5 ? "full_attention" : "sliding_attention")];
        var overrides = new Dictionary<string, object?> { ["layer_types"] = types, ["sliding_window_pattern"] = null };

        await ImportedModelVerifier.ImportAndVerifyAsync(
            output, config, weights, "F32", () => Reference(config, weights), configOverrides: overrides, prefill: 8);
    }

    [Fact]
    public async Task Import_WindowSpanningTheContext_LocalLayersKeepTheirRopeBase()
    {
        // sliding_window 4096 over a context of 48 is no window, yet the local layers still rotate with base 10,000.
        LlamaConfig config = Gemma3(tied: true, dim: 48, "F32") with { SlidingWindow = 0 };
        LlamaWeights weights = BuiltInModels.RandomWeights(config, seed: 96, scale: 0.3f);
        double difference = MaxDifference(Reference(config, weights), new ReferenceTransformer(config, weights));
        Assert.True(difference > 1e-2, $"the local base changes the logits by only {difference}: the check below could not tell");

        await ImportedModelVerifier.ImportAndVerifyAsync(output, config, weights, "F32", () => Reference(config, weights));
    }

    [Fact]
    public async Task Import_RopeParametersPerLayerType_AsTransformers5WritesThem()
    {
        LlamaConfig config = Gemma3(tied: true, dim: 48, "F32");
        LlamaWeights weights = BuiltInModels.RandomWeights(config, seed: 97, scale: 0.3f);
        var overrides = new Dictionary<string, object?>
        {
            ["rope_theta"] = null,
            ["rope_local_base_freq"] = null,
            ["rope_scaling"] = null,
            ["rope_parameters"] = new Dictionary<string, object>
            {
                ["full_attention"] = new Dictionary<string, object> { ["rope_type"] = "linear", ["factor"] = 8.0, ["rope_theta"] = 1_000_000.0 },
                ["sliding_attention"] = new Dictionary<string, object> { ["rope_type"] = "default", ["rope_theta"] = 10_000.0 },
            },
        };

        await ImportedModelVerifier.ImportAndVerifyAsync(
            output, config, weights, "F32", () => Reference(config, weights), configOverrides: overrides, prefill: 8);
    }

    [Fact]
    public async Task Import_SoftcapsAndAttentionBias_WhenConfigured()
    {
        LlamaConfig config = Gemma3(tied: false, dim: 48, "F32") with { AttentionSoftcap = 1.5f, FinalLogitSoftcap = 10f, QkvBias = true, OutputBias = true };
        LlamaWeights weights = BuiltInModels.RandomWeights(config, seed: 98, scale: 0.3f);

        await ImportedModelVerifier.ImportAndVerifyAsync(output, config, weights, "F32", () => Reference(config, weights), prefill: 8);
    }

    [Fact]
    public void Import_Gemma3_InspectNamesTheLayerPatternAndTheGraphHasALocalRopeCache()
    {
        LlamaConfig config = Gemma3(tied: true, dim: 48, "F32");
        using var temp = TestPaths.CreateTempDirectory();
        string source = Path.Combine(temp.Path, "hf"), folder = Path.Combine(temp.Path, "model");
        HuggingFaceCheckpoint.Write(source, config, BuiltInModels.RandomWeights(config, seed: 99), "F32", gemma3Prefix: "language_model.model.");

        ModelConverter.ImportHuggingFace(source, folder);
        var model = Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(Path.Combine(folder, ModelFolder.ModelFile)));
        string[] cosPerLayer = [.. model.Graph.Node.Where(n => n.OpType == "GroupQueryAttention").Select(n => n.Input[7])];

        Assert.Equal(["cos_cache_local", "cos_cache_local", "cos_cache", "cos_cache_local"], cosPerLayer);
        Assert.Contains(
            "per-head q/k RMSNorm, post-attention/post-feed-forward norms, local layers sliding window 4, RoPE base 10000; one global layer in every 3 (layer 2 first)",
            ModelInspection.Inspect(folder).Format(),
            StringComparison.Ordinal);
    }

    [Fact]
    public void ReadConfig_Gemma3TextConfigLeavingOutDefaults_TakesGemma3TextConfigsDefaultsAndTheOuterTokenIds()
    {
        // A gemma3 config whose text_config names only what differs from Gemma3TextConfig's defaults, as the 4B's does.
        using var temp = TestPaths.CreateTempDirectory();
        File.WriteAllText(Path.Combine(temp.Path, "config.json"), """
            {
              "architectures": ["Gemma3ForConditionalGeneration"],
              "eos_token_id": [1, 106],
              "model_type": "gemma3",
              "text_config": {
                "hidden_size": 2560,
                "intermediate_size": 10240,
                "model_type": "gemma3_text",
                "num_hidden_layers": 34,
                "rope_scaling": { "factor": 8.0, "rope_type": "linear" },
                "sliding_window": 1024
              },
              "torch_dtype": "bfloat16",
              "vision_config": { "model_type": "siglip_vision_model" }
            }
            """);

        (LlamaConfig config, TokenIds tokens) = HuggingFaceImporter.ReadConfig(temp.Path);

        Assert.Equal(
            new LlamaConfig(2560, 10240, 34, 8, 4, 262_208, 131_072, 1_000_000f, 1e-6f, TiedEmbeddings: true)
            {
                ModelType = "gemma3_text",
                HeadDim = 256,
                RopeScaling = new RopeScaling("linear", 8),
                SlidingWindow = 1024,
                QkNorm = true,
                HiddenAct = "gelu_pytorch_tanh",
                SandwichNorms = true,
                EmbeddingMultiplier = 50.5f, // √2560 = 50.596 in bfloat16
                QueryPreAttnScalar = 256,
                SlidingWindowPattern = 6,
                LocalRopeTheta = 10_000f,
            },
            config);
        Assert.Equal((2, 0), (tokens.Bos, tokens.Pad));
        Assert.Equal([1, 106], tokens.Eos);
        Assert.Equal([1024, 1024, 1024, 1024, 1024, 0, 1024], Enumerable.Range(0, 7).Select(config.WindowOf));
        Assert.Equal([true, true, true, true, true, false], Enumerable.Range(0, 6).Select(config.UsesLocalRope));
    }

    [Theory]
    [InlineData("""{"model_type": "gemma3"}""", "has no 'text_config' object")]
    [InlineData("""{"model_type": "gemma3", "text_config": {"model_type": "gemma2"}}""", "text_config model_type 'gemma2' is not supported")]
    [InlineData("""{"model_type": "gemma3_text", "use_bidirectional_attention": true}""", "use_bidirectional_attention")]
    [InlineData("""{"model_type": "gemma3_text", "num_hidden_layers": 2, "layer_types": ["full_attention", "sliding_attention"]}""", "layer_types [full_attention, sliding_attention] is not supported for gemma3_text")]
    [InlineData("""{"model_type": "gemma3_text", "num_hidden_layers": 2, "layer_types": ["sliding_attention", "sliding_attention"]}""", "layer_types [sliding_attention, sliding_attention]")]
    [InlineData("""{"model_type": "gemma3_text", "sliding_window_pattern": 0}""", "sliding_window_pattern 0")]
    [InlineData("""{"model_type": "gemma3_text", "rope_scaling": {"rope_type": "yarn", "factor": 8.0}}""", "rope_type 'yarn'")]
    [InlineData("""{"model_type": "gemma3_text", "rope_parameters": {"full_attention": {"rope_type": "default"}, "sliding_attention": {"rope_type": "linear", "factor": 2.0}}}""", "rope_parameters.sliding_attention rope_type 'linear'")]
    [InlineData("""{"model_type": "gemma3_text", "hidden_activation": "gelu"}""", "hidden_activation 'gelu' is not supported for gemma3_text")]
    public void ReadConfig_UnsupportedGemma3Config_OneLineNamingIt(string json, string named)
    {
        using var temp = TestPaths.CreateTempDirectory();
        File.WriteAllText(Path.Combine(temp.Path, "config.json"), json);

        var error = Assert.ThrowsAny<Exception>(() => HuggingFaceImporter.ReadConfig(temp.Path));

        Assert.True(error is InvalidDataException or NotSupportedException, $"{error.GetType().Name}: {error.Message}");
        Assert.Contains(named, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Theory]
    [InlineData(null, "model.layers.1.self_attn.k_norm.weight", "lacks tensor 'model.layers.1.self_attn.k_norm.weight'")]
    [InlineData("language_model.model.", "model.layers.0.post_feedforward_layernorm.weight", "lacks tensor 'language_model.model.layers.0.post_feedforward_layernorm.weight'")]
    [InlineData("language_model.model.", "lm_head.weight", "has no language_model.lm_head.weight")]
    public void Import_MissingGemma3Tensor_OneLineNamingItAndNoOutput(string? gemma3Prefix, string tensor, string named)
    {
        LlamaConfig config = Gemma3(tied: false, dim: 48, "F32");
        using var temp = TestPaths.CreateTempDirectory();
        string source = Path.Combine(temp.Path, "hf");
        HuggingFaceCheckpoint.Write(source, config, BuiltInModels.RandomWeights(config, seed: 7), "F32", skip: tensor, gemma3Prefix: gemma3Prefix);
        string folder = Path.Combine(temp.Path, "out");

        var error = Assert.ThrowsAny<InvalidDataException>(() => ModelConverter.ImportHuggingFace(source, folder));

        Assert.Contains(named, error.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(folder), "the output folder was created");
    }

    /// <summary>The reference with Gemma 3's local rotary embedding on the layers the pattern makes local.</summary>
    private static ReferenceTransformer Reference(LlamaConfig config, LlamaWeights weights) => new(
        config,
        weights,
        windows: [.. Enumerable.Range(0, config.Layers).Select(l => (l + 1) % config.SlidingWindowPattern != 0 ? config.SlidingWindow : 0)],
        localRope: new LocalRope(config.LocalRopeTheta, [.. Enumerable.Range(0, config.Layers).Select(l => (l + 1) % config.SlidingWindowPattern != 0)]));

    private static double MaxDifference(ReferenceTransformer a, ReferenceTransformer b) =>
        ImportedModelVerifier.Sequence.Max(token => a.Forward(token).Zip(b.Forward(token), (x, y) => Math.Abs(x - y)).Max());

    private static LlamaConfig Gemma3(bool tied, int dim, string dtype) =>
        new(Dim: dim, HiddenDim: 96, Layers: 4, Heads: 4, KvHeads: 2, VocabSize: 272, ContextLength: 48, RopeTheta: 1_000_000f, NormEpsilon: 1e-6f, TiedEmbeddings: tied)
        {
            ModelType = "gemma3_text",
            HeadDim = 16 == dim / 4 ? 0 : 16,
            RopeScaling = new RopeScaling("linear", 8),
            QkNorm = true,
            HiddenAct = "gelu_pytorch_tanh",
            SandwichNorms = true,
            EmbeddingMultiplier = SafeTensorsWriter.RoundTrip((float)Math.Sqrt(dim), dtype),
            QueryPreAttnScalar = 24,
            SlidingWindow = 4,
            SlidingWindowPattern = 3,
            LocalRopeTheta = 10_000f,
        };
}
