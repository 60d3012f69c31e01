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

        // GPTQ: one Hessian per input, kept while a MatMul reading that input is still to come.
        var remaining = _candidates.GroupBy(c => c.Input, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var hessians = new Dictionary<string, double[]>(StringComparer.Ordinal);
        return MatMulNBitsRewriter.Apply(model, _options, (candidate, weight, blockSize) =>
        {
            if (!hessians.TryGetValue(candidate.Input, out double[]? hessian))
            {
                hessian = _statistics[candidate.Input].Hessian(_gemm);
                hessians[candidate.Input] = hessian;
            }

            if (--remaining[candidate.Input] == 0)
            {
                hessians.Remove(candidate.Input);
            }

            return GptqQuantizer.Quantize(weight, candidate.K, candidate.N, bits, blockSize, _options.Symmetric, hessian, _gemm);
        });
    }

    public void Dispose() => _gemm.Dispose();
}
