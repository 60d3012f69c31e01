using System.Text.Json;
using LlmAspire.Inference.Models;

namespace LlmAspire.Tests.Inference.HuggingFace;

/// <summary>
/// What the importer refuses: each mistake is one line that names the key, tensor or file, thrown before anything
/// is written to the output folder.
/// </summary>
public sealed class HuggingFaceImportErrorTests
{
    [Theory]
    [InlineData("llama", """{"rope_scaling": {"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 16}}""", "rope_type 'yarn'")]
    [InlineData("llama", """{"rope_scaling": {"type": "longrope", "factor": 4.0}}""", "rope_type 'longrope'")]
    [InlineData("llama", """{"rope_scaling": {"rope_type": "llama3", "factor": 8.0}}""", "rope_scaling (rope_type 'llama3') lacks 'low_freq_factor'")]
    [InlineData("llama", """{"model_type": "gemma"}""", "model_type 'gemma'")]
    [InlineData("llama", """{"partial_rotary_factor": 0.5}""", "partial_rotary_factor")]
    [InlineData("llama", """{"intermediate_size": 72}""", "Tensor 'model.layers.0.mlp.gate_proj.weight' has 2048 values; config.json implies 2304")]
    [InlineData("qwen2", """{"use_sliding_window": true, "sliding_window": 8, "layer_types": ["sliding_attention", "full_attention"]}""", "layer_types")]
    [InlineData("phi3", """{"rope_scaling": {"type": "longrope", "short_factor": [1.0, 2.0], "long_factor": [1.0, 2.0]}}""", "rope_scaling short_factor has 2 values; the rotary dimension 8 needs 4")]
    [InlineData("phi3", """{"rope_scaling": {"rope_type": "longrope", "short_factor": [1.0, 1.0, 1.0, 1.0]}}""", "rope_scaling (rope_type 'longrope') lacks 'long_factor'")]
    [InlineData("phi3", """{"partial_rotary_factor": 0.1}""", "partial_rotary_factor 0.1 gives a rotary dimension of 0")]
    [InlineData("phi3", """{"intermediate_size": 72}""", "Tensor 'model.layers.0.mlp.gate_up_proj.weight' has 4096 values; config.json implies 4608")]
    [InlineData("gemma2", """{"hidden_activation": "gelu"}""", "hidden_activation 'gelu' is not supported for gemma2")]
    [InlineData("gemma2", """{"sliding_window": 4, "layer_types": ["full_attention", "sliding_attention"]}""", "layer_types [full_attention, sliding_attention] is not supported for gemma2")]
    [InlineData("qwen3", """{"head_dim": 24}""", "Tensor 'model.layers.0.self_attn.q_proj.weight' has 2048 values; config.json implies 3072")]
    public void Import_UnsupportedOrInconsistentConfig_OneLineNamingItAndNoOutput(string modelType, string overrides, string named)
    {
        using JsonDocument document = JsonDocument.Parse(overrides);
        var values = document.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => (object?)p.Value.Clone());

        AssertImportFails(Config(modelType), values, skip: null, named);
    }

    [Theory]
    [InlineData("llama", "model.layers.1.self_attn.o_proj.bias")]
    [InlineData("llama", "lm_head.weight")]
    [InlineData("qwen2", "model.layers.1.self_attn.k_proj.bias")]
    [InlineData("qwen3", "model.layers.0.self_attn.q_norm.weight")]
    [InlineData("phi3", "model.layers.1.self_attn.qkv_proj.weight")]
    [InlineData("gemma2", "model.layers.1.pre_feedforward_layernorm.weight")]
    [InlineData("gemma2", "model.layers.0.post_feedforward_layernorm.weight")]
    [InlineData("phi3", "model.layers.0.mlp.gate_up_proj.weight")]
    [InlineData("qwen3", "model.layers.1.self_attn.k_norm.weight")]
    public void Import_MissingTensor_OneLineNamingItAndNoOutput(string modelType, string tensor)
    {
        AssertImportFails(Config(modelType), null, tensor, tensor == "lm_head.weight" ? "no lm_head.weight" : $"lacks tensor '{tensor}'");
    }

    [Theory]
    [InlineData(false, 10, "model.safetensors' is truncated: tensor ")]
    [InlineData(true, 3, "model-00002-of-00002.safetensors' is truncated: tensor ")]
    [InlineData(false, -5, "model.safetensors' is not a safetensors file: 5 bytes")]
    public void Import_TruncatedSafetensors_OneLineNamingTheFileAndNoOutput(bool sharded, int cut, string named)
    {
        AssertImportFails(
            Config("llama"),
            null,
            skip: null,
            named,
            source =>
            {
                string file = Path.Combine(source, sharded ? "model-00002-of-00002.safetensors" : "model.safetensors");
                using FileStream stream = File.Open(file, FileMode.Open);
                stream.SetLength(cut > 0 ? stream.Length - cut : -cut);
            },
            sharded);
    }

    private static LlamaConfig Config(string modelType)
    {
        var llama = new LlamaConfig(Dim: 32, HiddenDim: 64, Layers: 2, Heads: 4, KvHeads: 2, VocabSize: 264, ContextLength: 32, NormEpsilon: 1e-6f, TiedEmbeddings: false);
        return modelType switch
        {
            "qwen2" => llama with { ModelType = "qwen2", QkvBias = true },
            "qwen3" => llama with { ModelType = "qwen3", HeadDim = 16, QkNorm = true },
            "phi3" => llama with { ModelType = "phi3" },
            "gemma2" => llama with
            {
                ModelType = "gemma2", HiddenAct = "gelu_pytorch_tanh", SandwichNorms = true, QueryPreAttnScalar = 8, AttentionSoftcap = 50, FinalLogitSoftcap = 30,
            },
            _ => llama with { QkvBias = true, OutputBias = true },
        };
    }

    private static void AssertImportFails(
        LlamaConfig config, Dictionary<string, object?>? overrides, string? skip, string named, Action<string>? corrupt = null, bool sharded = false)
    {
        using var temp = TestPaths.CreateTempDirectory();
        string source = Path.Combine(temp.Path, "hf");
        HuggingFaceCheckpoint.Write(source, config, BuiltInModels.RandomWeights(config, seed: 7), "F32", sharded, overrides, skip);
        corrupt?.Invoke(source);
        string output = Path.Combine(temp.Path, "out");

        var error = Assert.ThrowsAny<Exception>(() => ModelConverter.ImportHuggingFace(source, output));

        Assert.True(error is InvalidDataException or NotSupportedException, $"{error.GetType().Name}: {error.Message}");
        Assert.Contains(named, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
        Assert.False(Directory.Exists(output), "the output folder was created");
    }
}
