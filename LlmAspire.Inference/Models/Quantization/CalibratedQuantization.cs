using LlmAspire.Inference.Models.Calibration;
using Onnx;

namespace LlmAspire.Inference.Models.Quantization;

/// <summary>
/// A calibrated quantization of one graph (<see cref="QuantizationMethod.Awq"/> or <see cref="QuantizationMethod.Gptq"/>):
/// the activation statistics of every MatMul to quantize, collected over the calibration text, then used to rewrite
/// the graph into MatMulNBits.
/// </summary>
internal sealed class CalibratedQuantization : IDisposable
{
    private readonly QuantizationOptions _options;
    private readonly IReadOnlyList<MatMulCandidate> _candidates;
    private readonly IReadOnlyDictionary<string, ActivationStatistics> _statistics;
    private readonly OrtGemm _gemm = new();
    private readonly List<string> _notes = [];

    private CalibratedQuantization(QuantizationOptions options, IReadOnlyList<MatMulCandidate> candidates, IReadOnlyDictionary<string, ActivationStatistics> statistics)
    {
        _options = options;
        _candidates = candidates;
        _statistics = statistics;
        Tokens = statistics.Count > 0 ? statistics.Values.First().Tokens : 0;
    }

    /// <summary>Calibration tokens the statistics cover.</summary>
    public int Tokens { get; }

    /// <summary>One line per group of MatMuls sharing an input: what the method did there.</summary>
    public IReadOnlyList<string> Notes => _notes;

    /// <summary>Collects the statistics of <paramref name="model"/>'s MatMul inputs over <paramref name="documents"/>, tokenized with <paramref name="folder"/>'s tokenizer.</summary>
    public static CalibratedQuantization Prepare(ModelProto model, string folder, QuantizationOptions options, IReadOnlyList<string> documents)
    {
        (IReadOnlyList<MatMulCandidate> candidates, _) = MatMulNBitsRewriter.FindCandidates(model, options);
        IReadOnlyDictionary<string, ActivationStatistics> statistics =
            ActivationCollector.Collect(model, folder, [.. candidates.Select(c => c.Input)], documents);
        return new CalibratedQuantization(options, candidates, statistics);
    }

    /// <summary>Rewrites <paramref name="model"/> into MatMulNBits with the calibrated method.</summary>
    public MatMulNBitsResult Apply(ModelProto model)
    {
        int bits = _options.Bits ?? throw new InvalidOperationException("Bits must be set to quantize.");
        if (_options.Method == QuantizationMethod.Awq)
        {
            _notes.AddRange(AwqScaler.Apply(model, _candidates, _statistics, _options, _gemm));
            return MatMulNBitsRewriter.Apply(model, _options);
        }

        // GPTQ (after AWQ's scaling for awq+gptq): one Hessian per input, kept while a MatMul reading that input is still to come.
        var scaled = new Dictionary<string, (string Source, float[] Scales)>(StringComparer.Ordinal);
        if (_options.Method == QuantizationMethod.AwqGptq)
        {
            _notes.AddRange(AwqScaler.Apply(model, _candidates, _statistics, _options, _gemm, scaled));
        }

        var remaining = _candidates.GroupBy(c => c.Input, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var hessians = new Dictionary<string, double[]>(StringComparer.Ordinal);
        var factors = new Dictionary<string, float[]>(StringComparer.Ordinal);
        string SourceOf(MatMulCandidate candidate) => scaled.TryGetValue(candidate.Input, out (string Source, float[] Scales) scaling) ? scaling.Source : candidate.Input;
        double[] HessianOf(MatMulCandidate candidate, bool release)
        {
            string source = scaled.TryGetValue(candidate.Input, out (string Source, float[] Scales) scaling) ? scaling.Source : candidate.Input;
            if (!hessians.TryGetValue(source, out double[]? hessian))
            {
                hessian = _statistics[source].Hessian(_gemm);
                if (scaling.Scales is float[] s)
                {
                    Rescale(hessian, s);
                }

                hessians[source] = hessian;
            }

            if (release && --remaining[source] == 0)
            {
                hessians.Remove(source);
                factors.Remove(source);
            }

            return hessian;
        }

        QuantizedMatrix Gptq(MatMulCandidate candidate, float[] weight, int blockSize, int matrixBits, bool release)
        {
            string source = SourceOf(candidate);
            double[] hessian = HessianOf(candidate, release: false);
            if (!factors.TryGetValue(source, out float[]? factor))
            {
                factor = GptqQuantizer.Factor(hessian, candidate.K);
                factors[source] = factor;
            }

            QuantizedMatrix q = GptqQuantizer.Quantize(weight, candidate.K, candidate.N, matrixBits, blockSize, _options.Symmetric, hessian, _gemm, factor: factor);
            if (release)
            {
                _ = HessianOf(candidate, release: true);
            }

            return q;
        }

        if (_options.Int8Percent == 0)
        {
            return MatMulNBitsRewriter.Apply(model, _options, (candidate, weight, blockSize) => Gptq(candidate, weight, blockSize, bits, release: true));
        }

        // Mixed precision: every weight at 4 bits first, ranked by its relative output error; the worst stay at 8 bits
        // until they hold the asked share of the weights.
        Dictionary<string, TensorProto> initializers = model.Graph.Initializer.ToDictionary(t => t.Name, StringComparer.Ordinal);
        var fourBit = new Dictionary<string, QuantizedMatrix>(StringComparer.Ordinal);
        var relativeErrors = new List<(MatMulCandidate Candidate, double Error)>();
        foreach (MatMulCandidate candidate in _candidates)
        {
            float[] weight = MatMulNBitsRewriter.ReadFloats(initializers[candidate.WeightName]);
            int blockSize = MatMulNBitsRewriter.EffectiveBlockSize(_options.BlockSize, candidate.K);
            double[] hessian = HessianOf(candidate, release: false);
            QuantizedMatrix q = Gptq(candidate, weight, blockSize, 4, release: true);
            fourBit[candidate.WeightName] = q;
            relativeErrors.Add((candidate, RelativeOutputError(weight, q.Dequantize(), candidate.K, candidate.N, hessian)));
        }

        long total = _candidates.Sum(c => (long)c.K * c.N), budget = total * _options.Int8Percent / 100, promoted = 0;
        var eightBit = new HashSet<string>(StringComparer.Ordinal);
        foreach ((MatMulCandidate candidate, double error) in relativeErrors.OrderByDescending(e => e.Error))
        {
            long size = (long)candidate.K * candidate.N;
            if (promoted + size > budget)
            {
                continue;
            }

            promoted += size;
            eightBit.Add(candidate.WeightName);
            _notes.Add($"{candidate.WeightName}: 8 bits (4-bit relative output error {error.ToString("0.0000", System.Globalization.CultureInfo.InvariantCulture)})");
        }

        hessians.Clear();
        factors.Clear();
        remaining = _candidates.Where(c => eightBit.Contains(c.WeightName)).GroupBy(c => c.Input, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        return MatMulNBitsRewriter.Apply(model, _options, (candidate, weight, blockSize) =>
            eightBit.Contains(candidate.WeightName) ? Gptq(candidate, weight, blockSize, 8, release: true) : fourBit[candidate.WeightName]);
    }

    /// <summary>tr(EᵀHE) / tr(WᵀHW) with E = W − Ŵ: the layer's squared output error over its squared output on the calibration activations.</summary>
    private double RelativeOutputError(float[] weight, float[] dequantized, int k, int n, double[] hessian)
    {
        float[] h = Array.ConvertAll(hessian, v => (float)v);
        float[] error = new float[weight.Length];
        for (int i = 0; i < error.Length; i++)
        {
            error[i] = weight[i] - dequantized[i];
        }

        float[] he = _gemm.Multiply(h, error, k, k, n);
        float[] hw = _gemm.Multiply(h, weight, k, k, n);
        double numerator = 0, denominator = 0;
        for (int i = 0; i < error.Length; i++)
        {
            numerator += (double)he[i] * error[i];
            denominator += (double)hw[i] * weight[i];
        }

        return denominator > 0 ? numerator / denominator : 0;
    }

    /// <summary>H of X/s: H_ij / (s_i s_j).</summary>
    private static void Rescale(double[] hessian, float[] s)
    {
        int k = s.Length;
        for (int i = 0; i < k; i++)
        {
            for (int j = 0; j < k; j++)
            {
                hessian[(i * k) + j] /= (double)s[i] * s[j];
            }
        }
    }

    public void Dispose() => _gemm.Dispose();
}
