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
}
