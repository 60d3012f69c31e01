namespace LlmAspire.Inference.Models;

/// <summary>
/// Shape of a Llama-family decoder. The positional parameters are what every member of the family has; the
/// init-only properties are what some add (Qwen2's q/k/v biases, Qwen3's per-head norms and explicit head size,
/// Mistral's sliding window, Llama 3.1's scaled RoPE). Their defaults are plain Llama.
/// </summary>
public sealed record LlamaConfig(
    int Dim,
    int HiddenDim,
    int Layers,
    int Heads,
    int KvHeads,
    int VocabSize,
    int ContextLength,
    float RopeTheta = 10000f,
    float NormEpsilon = 1e-5f,
    bool TiedEmbeddings = true)
{
    /// <summary>Hugging Face's <c>model_type</c> the weights came from (llama, mistral, qwen2, qwen3, phi3, gemma2, gemma3_text); GenAI's model type.</summary>
    public string ModelType { get; init; } = "llama";

    /// <summary>Size of one attention head when set explicitly (Qwen3's <c>head_dim</c>); 0 means <see cref="Dim"/> / <see cref="Heads"/>.</summary>
    public int HeadDim { get; init; }

    /// <summary>Leading dimensions of each head the rotary embedding turns (Phi-3's head_dim × <c>partial_rotary_factor</c>); 0 means all of them.</summary>
    public int RotaryDim { get; init; }

    /// <summary>How the rotary frequencies are scaled; null for plain RoPE.</summary>
    public RopeScaling? RopeScaling { get; init; }

    /// <summary>Keys a query sees in a sliding-window layer, itself included (Hugging Face's <c>sliding_window</c>); 0 for full attention.</summary>
    public int SlidingWindow { get; init; }

    /// <summary>The first layer that uses <see cref="SlidingWindow"/>; every later layer does too (Qwen2's <c>max_window_layers</c>).</summary>
    public int FirstSlidingLayer { get; init; }

    /// <summary>q_proj, k_proj and v_proj add a bias (Qwen2; Llama and Qwen3 with <c>attention_bias</c>).</summary>
    public bool QkvBias { get; init; }

    /// <summary>o_proj adds a bias (Llama and Qwen3 with <c>attention_bias</c>).</summary>
    public bool OutputBias { get; init; }

    /// <summary>Queries and keys are RMS-normalized per head before the rotary embedding (Qwen3's q_norm / k_norm).</summary>
    public bool QkNorm { get; init; }

    /// <summary>The feed-forward gate's activation: <c>silu</c> (SwiGLU) or <c>gelu_pytorch_tanh</c> (Gemma 2's GeGLU, tanh approximation).</summary>
    public string HiddenAct { get; init; } = "silu";

    /// <summary>
    /// Gemma 2's sandwich norms: attention and feed-forward outputs are RMS-normalized (post_attention_layernorm,
    /// post_feedforward_layernorm) before they join the residual; the feed-forward input norm is pre_feedforward_layernorm.
    /// </summary>
    public bool SandwichNorms { get; init; }

    /// <summary>What the looked-up embeddings are multiplied by (Gemma's √hidden_size in the checkpoint's dtype); 0 means 1.</summary>
    public float EmbeddingMultiplier { get; init; }

    /// <summary>The attention scale is this to the power -0.5 (Gemma 2's <c>query_pre_attn_scalar</c>); 0 means the head size.</summary>
    public float QueryPreAttnScalar { get; init; }

    /// <summary>Attention scores become tanh(s / cap) · cap (Gemma 2's <c>attn_logit_softcapping</c>); 0 for none.</summary>
    public float AttentionSoftcap { get; init; }

    /// <summary>Logits become tanh(l / cap) · cap (Gemma 2's <c>final_logit_softcapping</c>); 0 for none.</summary>
    public float FinalLogitSoftcap { get; init; }

    /// <summary>Only the even layers use <see cref="SlidingWindow"/>, the odd ones attend to everything (Gemma 2).</summary>
    public bool AlternatingSlidingWindow { get; init; }

    /// <summary>
    /// Every this-many-th layer (counting from 1: layers pattern - 1, 2 · pattern - 1, ...) is global, the others are local:
    /// they slide over <see cref="SlidingWindow"/> and rotate with <see cref="LocalRopeTheta"/> (Gemma 3's
    /// <c>sliding_window_pattern</c>, 6; transformers: <c>(i + 1) % pattern</c> is sliding); 0 for no such pattern.
    /// </summary>
    public int SlidingWindowPattern { get; init; }

    /// <summary>
    /// RoPE base of the local layers, unscaled (Gemma 3's <c>rope_local_base_freq</c>): they get a cos/sin cache of their own
    /// while <see cref="RopeTheta"/> and <see cref="RopeScaling"/> apply to the global ones; 0 when every layer uses those.
    /// </summary>
    public float LocalRopeTheta { get; init; }

    /// <summary>Size of one attention head.</summary>
    public int HeadSize => HeadDim > 0 ? HeadDim : Dim / Heads;

    /// <summary>Dimensions of each head the rotary embedding turns: <see cref="RotaryDim"/>, else the whole head.</summary>
    public int RotarySize => RotaryDim > 0 ? RotaryDim : HeadSize;

    /// <summary>Width of the queries and of o_proj's input: heads × head size (not always <see cref="Dim"/>).</summary>
    public int QueryDim => Heads * HeadSize;

    /// <summary>Width of the keys and of the values: key/value heads × head size.</summary>
    public int KvDim => KvHeads * HeadSize;

    /// <summary>
    /// Head size of the attention kernel and the KV cache: <see cref="HeadSize"/> rounded up to a multiple of 16,
    /// which ONNX Runtime's GroupQueryAttention requires with rotary inside. Padded dimensions hold zeros, so the
    /// result is exact (stories260K's heads of 8 run as 16).
    /// </summary>
    public int AttentionHeadSize => (HeadSize + 15) / 16 * 16;

    /// <summary>
    /// Whether layer <paramref name="layer"/> is local (Hugging Face's <c>sliding_attention</c>): from <see cref="FirstSlidingLayer"/>
    /// on, only the even ones when <see cref="AlternatingSlidingWindow"/>, not the pattern's global ones. Holds even when the
    /// window was dropped for spanning the whole context, since the local RoPE base still applies.
    /// </summary>
    public bool IsLocalLayer(int layer) =>
        layer >= FirstSlidingLayer && (!AlternatingSlidingWindow || layer % 2 == 0) && (SlidingWindowPattern <= 0 || (layer + 1) % SlidingWindowPattern != 0);

    /// <summary>The sliding window of layer <paramref name="layer"/>, or 0 when it attends to every earlier position.</summary>
    public int WindowOf(int layer) => SlidingWindow > 0 && IsLocalLayer(layer) ? SlidingWindow : 0;

    /// <summary>Whether layer <paramref name="layer"/> rotates with <see cref="LocalRopeTheta"/> rather than <see cref="RopeTheta"/>.</summary>
    public bool UsesLocalRope(int layer) => LocalRopeTheta > 0 && IsLocalLayer(layer);

    /// <summary>Parameters of the model as trained (a tied classifier counted once); 0 parts when the feed-forward width is unknown.</summary>
    public long ParameterCount
    {
        get
        {
            long dim = Dim, qDim = QueryDim, kvDim = KvDim;
            long perLayer = 2 * dim + 2 * qDim * dim + 2 * kvDim * dim + 3L * HiddenDim * dim
                + (QkvBias ? qDim + 2 * kvDim : 0) + (OutputBias ? dim : 0) + (QkNorm ? 2L * HeadSize : 0) + (SandwichNorms ? 2 * dim : 0);
            return (long)VocabSize * dim * (TiedEmbeddings ? 1 : 2) + Layers * perLayer + dim;
        }
    }
}
