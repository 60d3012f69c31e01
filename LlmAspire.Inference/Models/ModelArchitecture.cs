using System.Text.Json.Serialization;

namespace LlmAspire.Inference.Models;

/// <summary>
/// <c>llmaspire.json</c>: what the ONNX graph was built from (the Llama hyper-parameters that
/// <c>genai_config.json</c> has no keys for) and where the weights came from.
/// </summary>
public sealed class ModelArchitecture
{
    /// <summary>Feed-forward width.</summary>
    [JsonPropertyName("intermediate_size")]
    public int IntermediateSize { get; set; }

    /// <summary>RoPE base.</summary>
    [JsonPropertyName("rope_theta")]
    public float RopeTheta { get; set; }

    /// <summary>RMSNorm epsilon.</summary>
    [JsonPropertyName("rms_norm_eps")]
    public float RmsNormEps { get; set; }

    /// <summary>Classifier shares the token embedding.</summary>
    [JsonPropertyName("tie_word_embeddings")]
    public bool TieWordEmbeddings { get; set; }

    /// <summary>Hugging Face's model_type (llama, mistral, qwen2, qwen3, phi3, gemma2, gemma3_text); absent for llama2.c models.</summary>
    [JsonPropertyName("model_type")]
    public string? ModelType { get; set; }

    /// <summary>Explicit head size, when it differs from hidden_size / num_attention_heads.</summary>
    [JsonPropertyName("head_dim")]
    public int? HeadDim { get; set; }

    /// <summary>Leading dimensions of each head the rotary embedding turns, when not all of them (partial rotary).</summary>
    [JsonPropertyName("rotary_dim")]
    public int? RotaryDim { get; set; }

    /// <summary>Scaled RoPE, when the cos/sin cache was built with it.</summary>
    [JsonPropertyName("rope_scaling")]
    public RopeScaling? RopeScaling { get; set; }

    /// <summary>Keys a query sees in a sliding-window layer (itself included), when some layers slide.</summary>
    [JsonPropertyName("sliding_window")]
    public int? SlidingWindow { get; set; }

    /// <summary>Layers from this one on use <see cref="SlidingWindow"/>.</summary>
    [JsonPropertyName("max_window_layers")]
    public int? FirstSlidingLayer { get; set; }

    /// <summary>q_proj, k_proj and v_proj have biases.</summary>
    [JsonPropertyName("qkv_bias")]
    public bool? QkvBias { get; set; }

    /// <summary>o_proj has a bias.</summary>
    [JsonPropertyName("o_proj_bias")]
    public bool? OutputBias { get; set; }

    /// <summary>Per-head RMSNorm of queries and keys before the rotary embedding.</summary>
    [JsonPropertyName("qk_norm")]
    public bool? QkNorm { get; set; }

    /// <summary>The feed-forward gate's activation, when not silu.</summary>
    [JsonPropertyName("hidden_activation")]
    public string? HiddenAct { get; set; }

    /// <summary>Attention and feed-forward outputs are normalized before the residual add (Gemma 2).</summary>
    [JsonPropertyName("sandwich_norms")]
    public bool? SandwichNorms { get; set; }

    /// <summary>What the embeddings are multiplied by, when not 1.</summary>
    [JsonPropertyName("embedding_multiplier")]
    public float? EmbeddingMultiplier { get; set; }

    /// <summary>The attention scale is this to the power -0.5, when not the head size.</summary>
    [JsonPropertyName("query_pre_attn_scalar")]
    public float? QueryPreAttnScalar { get; set; }

    /// <summary>Attention logit soft-capping.</summary>
    [JsonPropertyName("attn_logit_softcapping")]
    public float? AttentionSoftcap { get; set; }

    /// <summary>Final logit soft-capping.</summary>
    [JsonPropertyName("final_logit_softcapping")]
    public float? FinalLogitSoftcap { get; set; }

    /// <summary>Only the even layers use the sliding window.</summary>
    [JsonPropertyName("alternating_sliding_window")]
    public bool? AlternatingSlidingWindow { get; set; }

    /// <summary>Every this-many-th layer is global, the others local (Gemma 3).</summary>
    [JsonPropertyName("sliding_window_pattern")]
    public int? SlidingWindowPattern { get; set; }

    /// <summary>RoPE base of the local layers (Gemma 3).</summary>
    [JsonPropertyName("rope_local_base_freq")]
    public float? LocalRopeTheta { get; set; }

    /// <summary>Tokenizer file in the folder.</summary>
    [JsonPropertyName("tokenizer")]
    public string Tokenizer { get; set; } = ModelFolder.TokenizerFile;

    /// <summary>Where the weights came from (e.g. "llama2.c:stories260K.bin" or "built-in demo, random weights").</summary>
    [JsonPropertyName("source")]
    public string? Source { get; set; }
}
