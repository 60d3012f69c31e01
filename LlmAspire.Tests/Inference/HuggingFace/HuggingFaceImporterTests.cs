using System.Globalization;
using System.Text.Json;
using LlmAspire.Inference.Engine;
using LlmAspire.Inference.Models;
using LlmAspire.Inference.Models.HuggingFace;

namespace LlmAspire.Tests.Inference.HuggingFace;

public sealed class HuggingFaceImporterTests
{
    private const float Tolerance = 1e-4f;

    public static TheoryData<string, bool, bool, int, int> Variants => new()
    {
        // dtype, sharded, tied, heads, kv heads
        { "F32", false, true, 4, 2 },
        { "F16", false, false, 4, 4 },
        { "BF16", true, false, 8, 2 },
        { "BF16", true, true, 2, 1 },
    };

    [Theory]
    [MemberData(nameof(Variants))]
    public void Import_RandomSafetensors_OnnxLogitsMatchReferenceWithHalfRotation(string dtype, bool sharded, bool tied, int heads, int kvHeads)
    {
        var config = new LlamaConfig(Dim: 32, HiddenDim: 80, Layers: 2, Heads: heads, KvHeads: kvHeads, VocabSize: 96, ContextLength: 48, RopeTheta: 500000f, NormEpsilon: 1e-6f, TiedEmbeddings: tied);
        LlamaWeights weights = RoundTrip(BuiltInModels.RandomWeights(config, seed: 11, scale: 0.2f), dtype);
        using var temp = TestPaths.CreateTempDirectory();
        string source = Path.Combine(temp.Path, "hf");
        WriteHuggingFaceFolder(source, config, weights, dtype, sharded);
        string output = Path.Combine(temp.Path, "model");

        LlamaConfig imported = ModelConverter.ImportHuggingFace(source, output);

        Assert.Equal(config, imported);
        Assert.Equal("{\"model\":{\"type\":\"BPE\"}}", File.ReadAllText(Path.Combine(output, "tokenizer.json")));
        AssertLogitsMatch(output, config, new ReferenceLlama(config, weights, rotateHalves: true));
    }

    [Fact]
    public void Import_ExternalData_WritesModelOnnxDataAndStillMatches()
    {
        var config = new LlamaConfig(32, 64, 1, 4, 2, 64, 32, TiedEmbeddings: false);
        LlamaWeights weights = BuiltInModels.RandomWeights(config, seed: 3, scale: 0.2f);
        using var temp = TestPaths.CreateTempDirectory();
        string source = Path.Combine(temp.Path, "hf");
        WriteHuggingFaceFolder(source, config, weights, "F32", sharded: false);
        string output = Path.Combine(temp.Path, "model");

        HuggingFaceImporter.Import(source, output, externalDataThreshold: 0);

        Assert.True(new FileInfo(Path.Combine(output, ModelFolder.ExternalDataFile)).Length > new FileInfo(Path.Combine(output, ModelFolder.ModelFile)).Length);
        AssertLogitsMatch(output, config, new ReferenceLlama(config, weights, rotateHalves: true));
    }

    [Theory]
    [InlineData("\"rope_scaling\": {\"type\": \"llama3\", \"factor\": 8.0}", "rope_scaling")]
    [InlineData("\"rope_scaling\": {\"type\": \"yarn\", \"factor\": 8.0}", "yarn")]
    [InlineData("\"model_type\": \"gpt2\"", "gpt2")]
    [InlineData("\"mlp_bias\": true", "biases")]
    [InlineData("\"hidden_act\": \"gelu\"", "gelu")]
    public void ReadConfig_UnsupportedVariant_FailsClearly(string extra, string mentioned)
    {
        using var temp = TestPaths.CreateTempDirectory();
        File.WriteAllText(
            Path.Combine(temp.Path, "config.json"),
            "{\"hidden_size\": 32, \"num_attention_heads\": 4, \"num_hidden_layers\": 1, \"intermediate_size\": 64, \"vocab_size\": 64, " + extra + "}");

        var error = Assert.ThrowsAny<Exception>(() => HuggingFaceImporter.ReadConfig(temp.Path));

        Assert.True(error is NotSupportedException or InvalidDataException, error.GetType().Name);
        Assert.Contains(mentioned, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Import_MissingTensor_NamesIt()
    {
        var config = new LlamaConfig(32, 64, 1, 4, 2, 64, 32);
        using var temp = TestPaths.CreateTempDirectory();
        string source = Path.Combine(temp.Path, "hf");
        WriteHuggingFaceFolder(source, config, BuiltInModels.RandomWeights(config, 1), "F32", sharded: false, skip: "model.layers.0.mlp.up_proj.weight");

        var error = Assert.Throws<InvalidDataException>(() => HuggingFaceImporter.Import(source, Path.Combine(temp.Path, "out")));

        Assert.Contains("model.layers.0.mlp.up_proj.weight", error.Message, StringComparison.Ordinal);
    }

    internal static void WriteHuggingFaceFolder(string directory, LlamaConfig config, LlamaWeights weights, string dtype, bool sharded, string? skip = null)
    {
        Directory.CreateDirectory(directory);
        int kvDim = config.KvHeads * config.HeadSize;
        var tensors = new List<(string Name, long[] Shape, float[] Values)> { ("model.embed_tokens.weight", [config.VocabSize, config.Dim], weights.TokenEmbedding) };
        for (int l = 0; l < config.Layers; l++)
        {
            string p = string.Create(CultureInfo.InvariantCulture, $"model.layers.{l}.");
            tensors.Add((p + "input_layernorm.weight", [config.Dim], weights.AttentionNorm[l]));
            tensors.Add((p + "self_attn.q_proj.weight", [config.Dim, config.Dim], weights.Wq[l]));
            tensors.Add((p + "self_attn.k_proj.weight", [kvDim, config.Dim], weights.Wk[l]));
            tensors.Add((p + "self_attn.v_proj.weight", [kvDim, config.Dim], weights.Wv[l]));
            tensors.Add((p + "self_attn.o_proj.weight", [config.Dim, config.Dim], weights.Wo[l]));
            tensors.Add((p + "post_attention_layernorm.weight", [config.Dim], weights.FfnNorm[l]));
            tensors.Add((p + "mlp.gate_proj.weight", [config.HiddenDim, config.Dim], weights.W1[l]));
            tensors.Add((p + "mlp.up_proj.weight", [config.HiddenDim, config.Dim], weights.W3[l]));
            tensors.Add((p + "mlp.down_proj.weight", [config.Dim, config.HiddenDim], weights.W2[l]));
        }

        tensors.Add(("model.norm.weight", [config.Dim], weights.FinalNorm));
        if (!config.TiedEmbeddings)
        {
            tensors.Add(("lm_head.weight", [config.VocabSize, config.Dim], weights.Classifier));
        }

        tensors.RemoveAll(t => t.Name == skip);
        SafeTensorsWriter.WriteCheckpoint(directory, tensors, dtype, sharded);

        var hfConfig = new Dictionary<string, object>
        {
            ["architectures"] = new[] { "LlamaForCausalLM" },
            ["model_type"] = "llama",
            ["hidden_size"] = config.Dim,
            ["intermediate_size"] = config.HiddenDim,
            ["num_hidden_layers"] = config.Layers,
            ["num_attention_heads"] = config.Heads,
            ["num_key_value_heads"] = config.KvHeads,
            ["vocab_size"] = config.VocabSize,
            ["max_position_embeddings"] = config.ContextLength,
            ["rope_theta"] = config.RopeTheta,
            ["rms_norm_eps"] = config.NormEpsilon,
            ["tie_word_embeddings"] = config.TiedEmbeddings,
            ["hidden_act"] = "silu",
            ["bos_token_id"] = 1,
            ["eos_token_id"] = new[] { 2, 3 },
            ["torch_dtype"] = dtype == "F32" ? "float32" : dtype == "F16" ? "float16" : "bfloat16",
        };
        File.WriteAllText(Path.Combine(directory, "config.json"), JsonSerializer.Serialize(hfConfig));
        File.WriteAllText(Path.Combine(directory, "tokenizer.json"), "{\"model\":{\"type\":\"BPE\"}}");
    }

    private static LlamaWeights RoundTrip(LlamaWeights w, string dtype)
    {
        float[] R(float[] values) => [.. values.Select(v => SafeTensorsWriter.RoundTrip(v, dtype))];
        float[][] L(float[][] layers) => [.. layers.Select(R)];
        float[] embedding = R(w.TokenEmbedding);
        return new LlamaWeights
        {
            TokenEmbedding = embedding,
            AttentionNorm = L(w.AttentionNorm),
            Wq = L(w.Wq),
            Wk = L(w.Wk),
            Wv = L(w.Wv),
            Wo = L(w.Wo),
            FfnNorm = L(w.FfnNorm),
            W1 = L(w.W1),
            W2 = L(w.W2),
            W3 = L(w.W3),
            FinalNorm = R(w.FinalNorm),
            Classifier = ReferenceEquals(w.Classifier, w.TokenEmbedding) ? embedding : R(w.Classifier),
        };
    }

    private static void AssertLogitsMatch(string folder, LlamaConfig config, ReferenceLlama reference)
    {
        int[] tokens = [1, 40, 7, 63, 12, 5, 30, 2, 19];
        float[][] expected = [.. tokens.Select(reference.Forward)];
        (LlamaConfig read, GenAiConfig genai) = ModelFolder.ReadConfig(folder);
        Assert.Equal([2, 3], genai.Model.EosTokenId!);
        using DecoderSession session = DecoderSession.Open(Path.Combine(folder, ModelFolder.ModelFile), read, ExecutionProviderPreference.Cpu);
        using DecoderState state = session.CreateState();
        float[] prefill = session.Forward(state, tokens.AsSpan(0, 5), allPositions: true);
        for (int p = 0; p < 5; p++)
        {
            AssertClose(expected[p], prefill.AsSpan(p * config.VocabSize, config.VocabSize), $"prefill {p}");
        }

        for (int p = 5; p < tokens.Length; p++)
        {
            AssertClose(expected[p], session.Forward(state, tokens.AsSpan(p, 1)), $"decode {p}");
        }
    }

    private static void AssertClose(float[] expected, ReadOnlySpan<float> actual, string where)
    {
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= Tolerance, $"{where}: logit {i} expected {expected[i]}, got {actual[i]}");
        }
    }
}
