namespace LlmAspire.Inference.Models.Calibration;

/// <summary>
/// The activations that reached one linear layer's input (the A of <c>Y = A B</c>) over the calibration text:
/// every row kept, with per-channel summaries. Compression methods read what they need: activation-aware
/// quantization the mean magnitude per channel, GPTQ-style error compensation the Hessian 2XᵀX/n, pruning the
/// per-channel norms.
/// </summary>
public sealed class ActivationStatistics
{
    private readonly float[] _rows;

    internal ActivationStatistics(string tensor, int channels, float[] rows)
    {
        Tensor = tensor;
        Channels = channels;
        _rows = rows;
        Tokens = rows.Length / channels;
        MeanAbs = new double[channels];
        SquaredNorms = new double[channels];
        for (int t = 0; t < Tokens; t++)
        {
            ReadOnlySpan<float> row = rows.AsSpan(t * channels, channels);
            for (int c = 0; c < channels; c++)
            {
                MeanAbs[c] += Math.Abs(row[c]);
                SquaredNorms[c] += (double)row[c] * row[c];
            }
        }

        for (int c = 0; c < channels; c++)
        {
            MeanAbs[c] /= Math.Max(1, Tokens);
        }
    }

    /// <summary>The graph value these are the statistics of.</summary>
    public string Tensor { get; }

    /// <summary>Input channels (K).</summary>
    public int Channels { get; }

    /// <summary>Rows (token positions) seen.</summary>
    public int Tokens { get; }

    /// <summary>Mean |x| per input channel.</summary>
    public IReadOnlyList<double> MeanAbsolute => MeanAbs;

    /// <summary>Σ x² per input channel (the squared L2 norm of the channel over all tokens).</summary>
    public IReadOnlyList<double> SquaredNorm => SquaredNorms;

    internal double[] MeanAbs { get; }

    internal double[] SquaredNorms { get; }

    /// <summary>All rows, [Tokens, Channels] row-major.</summary>
    internal ReadOnlySpan<float> Rows => _rows;

    /// <summary>At most <paramref name="maxRows"/> rows, evenly spaced over all of them (all when there are fewer), [rows, Channels].</summary>
    internal float[] Sample(int maxRows, out int rows)
    {
        rows = Math.Min(maxRows, Tokens);
        if (rows == Tokens)
        {
            return _rows;
        }

        float[] sample = new float[rows * Channels];
        for (int i = 0; i < rows; i++)
        {
            int t = (int)((long)i * Tokens / rows);
            _rows.AsSpan(t * Channels, Channels).CopyTo(sample.AsSpan(i * Channels, Channels));
        }

        return sample;
    }

    /// <summary>The layer-wise Hessian of the squared output error, 2XᵀX / tokens, [Channels, Channels] in double.</summary>
    internal double[] Hessian(OrtGemm gemm)
    {
        float[] gram = gemm.Multiply(_rows, _rows, Channels, Tokens, Channels, transposeA: true);
        double[] hessian = new double[gram.Length];
        double factor = 2.0 / Math.Max(1, Tokens);
        for (int i = 0; i < gram.Length; i++)
        {
            hessian[i] = gram[i] * factor;
        }

        return hessian;
    }
}
