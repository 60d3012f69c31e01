namespace LlmAspire.Inference.Models.Pruning;

/// <summary>
/// Applies a <see cref="PruningPlan"/> to float32 weights: the dropped layers' arrays left out, gate/up rows and
/// down_proj columns of the removed channels cut, and for each removed key/value group its k/v rows, its query heads'
/// q rows and o_proj columns (and their biases) cut. What remains is copied unchanged, so an empty plan gives the same
/// weights back.
/// </summary>
public static class WeightPruner
{
    /// <summary>The pruned shape and weights.</summary>
    public static (LlamaConfig Config, LlamaWeights Weights) Apply(LlamaConfig config, LlamaWeights weights, PruningPlan plan)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(plan);
        weights.Validate(config);
        IReadOnlyList<int> kept = plan.KeptLayers(config.Layers);
        if (kept.Count == 0 || plan.FfnChannels.Count != kept.Count || plan.KvGroups.Count != kept.Count)
        {
            throw new ArgumentException($"The plan keeps {kept.Count} layers but lists channels for {plan.FfnChannels.Count} and head groups for {plan.KvGroups.Count}.", nameof(plan));
        }

        int channels = plan.FfnChannels[0].Length, groups = plan.KvGroups[0].Length;
        if (channels == 0 || groups == 0 || plan.FfnChannels.Any(c => c.Length != channels) || plan.KvGroups.Any(g => g.Length != groups))
        {
            throw new ArgumentException("Every kept layer must keep the same, non-zero number of channels and of head groups.", nameof(plan));
        }

        int dim = config.Dim, hidden = config.HiddenDim, hs = config.HeadSize, group = config.Heads / config.KvHeads, qDim = config.QueryDim;
        bool headsPruned = groups != config.KvHeads;
        LlamaConfig pruned = config with
        {
            Layers = kept.Count,
            HiddenDim = channels,
            Heads = groups * group,
            KvHeads = groups,
            HeadDim = headsPruned ? hs : config.HeadDim,
        };

        float[][] Layers(float[][] source, Func<float[], int, float[]> slice) => [.. kept.Select((l, i) => slice(source[l], i))];
        float[][]? Optional(float[][]? source, Func<float[], int, float[]> slice) => source is null ? null : Layers(source, slice);
        float[] Same(float[] values, int i) => values;

        // Rows of the kept query heads (each group's heads are consecutive) and of the kept key/value heads.
        int[] QueryRows(int i) => [.. plan.KvGroups[i].SelectMany(g => Enumerable.Range(g * group * hs, group * hs))];
        int[] KvRows(int i) => [.. plan.KvGroups[i].SelectMany(g => Enumerable.Range(g * hs, hs))];

        var result = new LlamaWeights
        {
            TokenEmbedding = weights.TokenEmbedding,
            AttentionNorm = Layers(weights.AttentionNorm, Same),
            Wq = Layers(weights.Wq, (w, i) => Rows(w, dim, QueryRows(i))),
            Wk = Layers(weights.Wk, (w, i) => Rows(w, dim, KvRows(i))),
            Wv = Layers(weights.Wv, (w, i) => Rows(w, dim, KvRows(i))),
            Wo = Layers(weights.Wo, (w, i) => Columns(w, dim, qDim, QueryRows(i))),
            Bq = Optional(weights.Bq, (b, i) => Rows(b, 1, QueryRows(i))),
            Bk = Optional(weights.Bk, (b, i) => Rows(b, 1, KvRows(i))),
            Bv = Optional(weights.Bv, (b, i) => Rows(b, 1, KvRows(i))),
            Bo = Optional(weights.Bo, Same),
            QNorm = Optional(weights.QNorm, Same),
            KNorm = Optional(weights.KNorm, Same),
            FfnNorm = Layers(weights.FfnNorm, Same),
            PostAttentionNorm = Optional(weights.PostAttentionNorm, Same),
            PostFfnNorm = Optional(weights.PostFfnNorm, Same),
            W1 = Layers(weights.W1, (w, i) => Rows(w, dim, plan.FfnChannels[i])),
            W3 = Layers(weights.W3, (w, i) => Rows(w, dim, plan.FfnChannels[i])),
            W2 = Layers(weights.W2, (w, i) => Columns(w, dim, hidden, plan.FfnChannels[i])),
            FinalNorm = weights.FinalNorm,
            Classifier = weights.Classifier,
        };
        result.Validate(pruned);
        return (pruned, result);
    }

    /// <summary>The rows <paramref name="rows"/> of a row-major matrix <paramref name="cols"/> wide.</summary>
    private static float[] Rows(float[] matrix, int cols, int[] rows)
    {
        float[] result = new float[rows.Length * cols];
        for (int r = 0; r < rows.Length; r++)
        {
            Array.Copy(matrix, rows[r] * cols, result, r * cols, cols);
        }

        return result;
    }

    /// <summary>The columns <paramref name="columns"/> of a row-major [<paramref name="rowCount"/>, <paramref name="width"/>] matrix.</summary>
    private static float[] Columns(float[] matrix, int rowCount, int width, int[] columns)
    {
        float[] result = new float[rowCount * columns.Length];
        for (int r = 0; r < rowCount; r++)
        {
            for (int c = 0; c < columns.Length; c++)
            {
                result[r * columns.Length + c] = matrix[r * width + columns[c]];
            }
        }

        return result;
    }
}
