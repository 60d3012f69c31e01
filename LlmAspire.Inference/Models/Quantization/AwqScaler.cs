using System.Globalization;
using System.Runtime.InteropServices;
using Google.Protobuf;
using LlmAspire.Inference.Models.Calibration;
using Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace LlmAspire.Inference.Models.Quantization;

/// <summary>
/// Activation-aware weight scaling (Lin et al. 2023, "AWQ"), applied to the graph before round-to-nearest: for each
/// group of MatMuls reading the same activation X, input channel c is scaled by s_c = mean|x_c|^α (normalized so that
/// max·min = 1), the weights' rows multiplied by s and X divided by it, which leaves the float product unchanged
/// but lets rounding spend its precision on the channels that carry large activations. α is searched over
/// <see cref="AlphaSteps"/> values in [0, 1) to minimise ‖X(Q(diag(s)W)/s − W)‖² on the calibration activations;
/// α = 0 is plain rounding, so a group is never worse on that sample than round-to-nearest.
/// The 1/s goes into the preceding RMSNorm's weight when X is such a norm's output read only by the group (q/k/v,
/// gate/up in our graphs); elsewhere (o_proj, down_proj, imported graphs) an explicit Mul by 1/s is inserted before
/// the group, which is correct for any graph and costs one element-wise op per token.
/// </summary>
internal static class AwqScaler
{
    /// <summary>α values tried: 0, 0.05, …, 0.95.</summary>
    public const int AlphaSteps = 20;

    /// <summary>Calibration rows the search evaluates the output error on (evenly spaced over all of them).</summary>
    public const int SearchRows = 256;

    private static readonly HashSet<string> NormOps = new(StringComparer.Ordinal) { "SimplifiedLayerNormalization", "SkipSimplifiedLayerNormalization", "RMSNormalization" };

    /// <summary>
    /// Scales the weights of <paramref name="candidates"/> in <paramref name="model"/> and folds or inserts the inverse;
    /// returns one line per group. <paramref name="applied"/>, when given, receives for each scaled group the input its
    /// MatMuls now read, with the original input and s (a later method rescales the statistics by 1/s).
    /// </summary>
    public static IReadOnlyList<string> Apply(
        ModelProto model,
        IReadOnlyList<MatMulCandidate> candidates,
        IReadOnlyDictionary<string, ActivationStatistics> statistics,
        QuantizationOptions options,
        OrtGemm gemm,
        IDictionary<string, (string Source, float[] Scales)>? applied = null)
    {
        GraphProto graph = model.Graph;
        int bits = options.Bits ?? throw new ArgumentException("Bits must be set to quantize.", nameof(options));
        Dictionary<string, TensorProto> initializers = graph.Initializer.ToDictionary(t => t.Name, StringComparer.Ordinal);
        var uses = new Dictionary<string, int>(StringComparer.Ordinal);
        MatMulNBitsRewriter.CountUses(graph, uses);
        var graphOutputs = graph.Output.Select(o => o.Name).ToHashSet(StringComparer.Ordinal);
        var report = new List<string>();
        var insertions = new List<(NodeProto Before, NodeProto Mul)>();
        foreach (IGrouping<string, MatMulCandidate> group in candidates.GroupBy(c => c.Input, StringComparer.Ordinal))
        {
            MatMulCandidate[] members = [.. group];
            if (members.Any(m => uses.GetValueOrDefault(m.WeightName) != 1))
            {
                report.Add($"{group.Key}: a weight is shared with another node; not scaled");
                continue;
            }

            ActivationStatistics stats = statistics[group.Key];
            int k = members[0].K;
            int blockSize = MatMulNBitsRewriter.EffectiveBlockSize(options.BlockSize, k);
            float[][] weights = [.. members.Select(m => MatMulNBitsRewriter.ReadFloats(initializers[m.WeightName]))];
            float[] combined = Concatenate(weights, members, k, out int totalN);
            float[] sample = stats.Sample(SearchRows, out int rows);
            double bestError = double.PositiveInfinity;
            float[]? bestScales = null;
            double bestAlpha = 0;
            for (int step = 0; step < AlphaSteps; step++)
            {
                double alpha = (double)step / AlphaSteps;
                float[] scales = Scales(stats.MeanAbs, alpha);
                double error = OutputError(combined, k, totalN, scales, sample, rows, bits, blockSize, options.Symmetric, gemm);
                if (error < bestError)
                {
                    (bestError, bestScales, bestAlpha) = (error, scales, alpha);
                }
            }

            if (bestAlpha == 0)
            {
                report.Add($"{group.Key}: α 0 (plain rounding is best)");
                continue;
            }

            float[] s = bestScales!;
            for (int m = 0; m < members.Length; m++)
            {
                float[] w = weights[m];
                int n = members[m].N;
                for (int row = 0; row < k; row++)
                {
                    foreach (ref float value in w.AsSpan(row * n, n))
                    {
                        value *= s[row];
                    }
                }

                initializers[members[m].WeightName].RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(w.AsSpan()));
                initializers[members[m].WeightName].FloatData.Clear();
            }

            string alphaText = bestAlpha.ToString("0.00", CultureInfo.InvariantCulture);
            if (TryFoldIntoNorm(graph, group.Key, members.Length, s, initializers, uses, graphOutputs, out string? norm))
            {
                applied?.Add(group.Key, (group.Key, s));
                report.Add($"{group.Key}: α {alphaText}, 1/s folded into {norm}");
                continue;
            }

            string inverseName = $"{group.Key}_awq_inverse_scale";
            string scaledName = $"{group.Key}_awq";
            float[] inverse = Array.ConvertAll(s, v => 1f / v);
            graph.Initializer.Add(MatMulNBitsRewriter.Tensor(inverseName, DataType.Float, MemoryMarshal.AsBytes(inverse.AsSpan()).ToArray(), k));
            var mul = new NodeProto { Name = scaledName + "_Mul", OpType = "Mul" };
            mul.Input.Add(group.Key);
            mul.Input.Add(inverseName);
            mul.Output.Add(scaledName);
            NodeProto first = graph.Node[members[0].NodeIndex];
            foreach (MatMulCandidate member in members)
            {
                graph.Node[member.NodeIndex].Input[0] = scaledName;
            }

            insertions.Add((first, mul));
            applied?.Add(scaledName, (group.Key, s));
            report.Add($"{group.Key}: α {alphaText}, 1/s applied by an inserted Mul");
        }

        foreach ((NodeProto before, NodeProto mul) in insertions)
        {
            graph.Node.Insert(graph.Node.IndexOf(before), mul);
        }

        return report;
    }

    /// <summary>s = max(mean|x|, 1e-4)^α, divided by sqrt(max(s)·min(s)) as the reference implementation does.</summary>
    internal static float[] Scales(double[] meanAbs, double alpha)
    {
        double[] s = Array.ConvertAll(meanAbs, m => Math.Pow(Math.Max(m, 1e-4), alpha));
        double norm = Math.Sqrt(s.Max() * s.Min());
        return Array.ConvertAll(s, v => (float)(v / norm));
    }

    /// <summary>‖X(Q(diag(s)W)/s − W)‖² over the sample rows.</summary>
    private static double OutputError(float[] w, int k, int n, float[] s, float[] x, int rows, int bits, int blockSize, bool symmetric, OrtGemm gemm)
    {
        float[] scaled = new float[w.Length];
        for (int row = 0; row < k; row++)
        {
            for (int column = 0; column < n; column++)
            {
                scaled[row * n + column] = w[row * n + column] * s[row];
            }
        }

        float[] quantized = BlockQuantizer.FakeQuantize(scaled, k, n, bits, blockSize, symmetric);
        for (int row = 0; row < k; row++)
        {
            for (int column = 0; column < n; column++)
            {
                int i = row * n + column;
                quantized[i] = (quantized[i] / s[row]) - w[i];
            }
        }

        float[] error = gemm.Multiply(x, quantized, rows, k, n);
        double sum = 0;
        foreach (float e in error)
        {
            sum += (double)e * e;
        }

        return sum;
    }

    /// <summary>The group's weights side by side, [K, ΣN]: blocks run along K, so each column quantizes as it would alone.</summary>
    private static float[] Concatenate(float[][] weights, MatMulCandidate[] members, int k, out int totalN)
    {
        totalN = members.Sum(m => m.N);
        float[] combined = new float[k * totalN];
        int offset = 0;
        for (int m = 0; m < members.Length; m++)
        {
            int n = members[m].N;
            for (int row = 0; row < k; row++)
            {
                Array.Copy(weights[m], row * n, combined, (row * totalN) + offset, n);
            }

            offset += n;
        }

        return combined;
    }

    /// <summary>
    /// Divides the weight (gamma) of the RMSNorm producing <paramref name="input"/> by s, when that is exact: the norm's
    /// first output is <paramref name="input"/>, nothing but the group's <paramref name="readers"/> MatMuls reads it, it
    /// is no graph output, and gamma is a float32 [K] initializer of this norm alone.
    /// </summary>
    private static bool TryFoldIntoNorm(
        GraphProto graph, string input, int readers, float[] s, Dictionary<string, TensorProto> initializers, Dictionary<string, int> uses, HashSet<string> graphOutputs, out string? norm)
    {
        norm = null;
        if (uses.GetValueOrDefault(input) != readers || graphOutputs.Contains(input))
        {
            return false;
        }

        NodeProto? producer = graph.Node.FirstOrDefault(n => n.Output.Count > 0 && n.Output[0] == input);
        if (producer is null || !NormOps.Contains(producer.OpType))
        {
            return false;
        }

        int gammaIndex = producer.OpType == "SkipSimplifiedLayerNormalization" ? 2 : 1;
        if (producer.Input.Count <= gammaIndex || !initializers.TryGetValue(producer.Input[gammaIndex], out TensorProto? gamma)
            || uses.GetValueOrDefault(gamma.Name) != 1 || gamma.DataType != (int)DataType.Float || gamma.Dims.Count != 1 || gamma.Dims[0] != s.Length)
        {
            return false;
        }

        float[] values = MatMulNBitsRewriter.ReadFloats(gamma);
        for (int c = 0; c < values.Length; c++)
        {
            values[c] /= s[c];
        }

        gamma.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(values.AsSpan()));
        gamma.FloatData.Clear();
        norm = producer.Name.Length > 0 ? producer.Name : producer.OpType;
        return true;
    }
}
