namespace LlmAspire.Inference.Models;

/// <summary>
/// The float32 weights of a Llama-family decoder. Matrices are row-major <c>[out, in]</c> (y = W x),
/// one entry per layer; rotary embedding pairs adjacent elements (llama2.c layout), so the rows of
/// <see cref="Wq"/> and <see cref="Wk"/> (and their biases and per-head norms) are in that order.
/// The optional members are null unless the <see cref="LlamaConfig"/> asks for them.
/// </summary>
public sealed class LlamaWeights
{
    /// <summary>[vocab, dim].</summary>
    public required float[] TokenEmbedding { get; init; }

    /// <summary>Per layer: [dim].</summary>
    public required float[][] AttentionNorm { get; init; }

    /// <summary>Per layer: [heads * headSize, dim].</summary>
    public required float[][] Wq { get; init; }

    /// <summary>Per layer: [heads * headSize], when <see cref="LlamaConfig.QkvBias"/>.</summary>
    public float[][]? Bq { get; init; }

    /// <summary>Per layer: [kvHeads * headSize], when <see cref="LlamaConfig.QkvBias"/>.</summary>
    public float[][]? Bk { get; init; }

    /// <summary>Per layer: [kvHeads * headSize], when <see cref="LlamaConfig.QkvBias"/>.</summary>
    public float[][]? Bv { get; init; }

    /// <summary>Per layer: [dim], when <see cref="LlamaConfig.OutputBias"/>.</summary>
    public float[][]? Bo { get; init; }

    /// <summary>Per layer: the query heads' RMSNorm weight, [headSize], when <see cref="LlamaConfig.QkNorm"/>.</summary>
    public float[][]? QNorm { get; init; }

    /// <summary>Per layer: the key heads' RMSNorm weight, [headSize], when <see cref="LlamaConfig.QkNorm"/>.</summary>
    public float[][]? KNorm { get; init; }

    /// <summary>Per layer: [kvHeads * headSize, dim].</summary>
    public required float[][] Wk { get; init; }

    /// <summary>Per layer: [kvHeads * headSize, dim].</summary>
    public required float[][] Wv { get; init; }

    /// <summary>Per layer: [dim, heads * headSize].</summary>
    public required float[][] Wo { get; init; }

    /// <summary>Per layer: the norm before the feed-forward (Gemma 2's pre_feedforward_layernorm), [dim].</summary>
    public required float[][] FfnNorm { get; init; }

    /// <summary>Per layer: the norm of the attention output, [dim], when <see cref="LlamaConfig.SandwichNorms"/>.</summary>
    public float[][]? PostAttentionNorm { get; init; }

    /// <summary>Per layer: the norm of the feed-forward output, [dim], when <see cref="LlamaConfig.SandwichNorms"/>.</summary>
    public float[][]? PostFfnNorm { get; init; }

    /// <summary>Per layer: gate, [hidden, dim].</summary>
    public required float[][] W1 { get; init; }

    /// <summary>Per layer: down, [dim, hidden].</summary>
    public required float[][] W2 { get; init; }

    /// <summary>Per layer: up, [hidden, dim].</summary>
    public required float[][] W3 { get; init; }

    /// <summary>[dim].</summary>
    public required float[] FinalNorm { get; init; }

    /// <summary>[vocab, dim]: the token embedding when tied.</summary>
    public required float[] Classifier { get; init; }

    /// <summary>Checks every array against <paramref name="config"/>.</summary>
    public void Validate(LlamaConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        int kvDim = config.KvDim, qDim = config.QueryDim;
        Check(TokenEmbedding, config.VocabSize * config.Dim, nameof(TokenEmbedding));
        Check(FinalNorm, config.Dim, nameof(FinalNorm));
        Check(Classifier, config.VocabSize * config.Dim, nameof(Classifier));
        CheckLayers(AttentionNorm, config.Dim, nameof(AttentionNorm));
        CheckLayers(Wq, qDim * config.Dim, nameof(Wq));
        CheckLayers(Wk, kvDim * config.Dim, nameof(Wk));
        CheckLayers(Wv, kvDim * config.Dim, nameof(Wv));
        CheckLayers(Wo, config.Dim * qDim, nameof(Wo));
        CheckOptional(Bq, config.QkvBias, qDim, nameof(Bq));
        CheckOptional(Bk, config.QkvBias, kvDim, nameof(Bk));
        CheckOptional(Bv, config.QkvBias, kvDim, nameof(Bv));
        CheckOptional(Bo, config.OutputBias, config.Dim, nameof(Bo));
        CheckOptional(QNorm, config.QkNorm, config.HeadSize, nameof(QNorm));
        CheckOptional(KNorm, config.QkNorm, config.HeadSize, nameof(KNorm));
        CheckLayers(FfnNorm, config.Dim, nameof(FfnNorm));
        CheckOptional(PostAttentionNorm, config.SandwichNorms, config.Dim, nameof(PostAttentionNorm));
        CheckOptional(PostFfnNorm, config.SandwichNorms, config.Dim, nameof(PostFfnNorm));
        CheckLayers(W1, config.HiddenDim * config.Dim, nameof(W1));
        CheckLayers(W2, config.Dim * config.HiddenDim, nameof(W2));
        CheckLayers(W3, config.HiddenDim * config.Dim, nameof(W3));

        void CheckOptional(float[][]? layers, bool expected, int length, string name)
        {
            if (layers is not null != expected)
            {
                throw new InvalidDataException(expected ? $"{name} is missing; the configuration has it." : $"{name} is present; the configuration has none.");
            }

            if (layers is not null)
            {
                CheckLayers(layers, length, name);
            }
        }

        void CheckLayers(float[][] layers, int length, string name)
        {
            if (layers.Length != config.Layers)
            {
                throw new InvalidDataException($"{name}: {layers.Length} layers, expected {config.Layers}.");
            }

            foreach (float[] layer in layers)
            {
                Check(layer, length, name);
            }
        }

        static void Check(float[] values, int length, string name)
        {
            if (values.Length != length)
            {
                throw new InvalidDataException($"{name}: {values.Length} values, expected {length}.");
            }
        }
    }
}
