namespace LlmAspire.Inference.Models;

/// <summary>Shape of a Llama-family decoder.</summary>
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
    /// <summary>Size of one attention head.</summary>
    public int HeadSize => Dim / Heads;

    /// <summary>
    /// Head size of the attention kernel and the KV cache: <see cref="HeadSize"/> rounded up to a multiple of 16,
    /// which ONNX Runtime's GroupQueryAttention requires with rotary inside. Padded dimensions hold zeros, so the
    /// result is exact (stories260K's heads of 8 run as 16).
    /// </summary>
    public int AttentionHeadSize => (HeadSize + 15) / 16 * 16;

    /// <summary>Parameters of the model as trained (a tied classifier counted once); 0 parts when the feed-forward width is unknown.</summary>
    public long ParameterCount
    {
        get
        {
            long dim = Dim, kvDim = (long)KvHeads * HeadSize;
            long perLayer = 2 * dim + 2 * dim * dim + 2 * kvDim * dim + 3L * HiddenDim * dim;
            return (long)VocabSize * dim * (TiedEmbeddings ? 1 : 2) + Layers * perLayer + dim;
        }
    }
}
