using System.Numerics;
using System.Runtime.InteropServices;
using Google.Protobuf;
using Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace LlmAspire.Inference.Models.Quantization;

/// <summary>
/// Replaces every <c>MatMul</c> whose B is a 2-D float32 initializer with a <c>com.microsoft.MatMulNBits</c> node
/// over the block-quantized weight (the classifier only when asked), as ONNX Runtime's
/// <c>matmul_nbits_quantizer.py</c> does: B becomes <c>{name}_Q{bits}</c> [N, blocks, blob], scales
/// <c>{name}_scales</c> [N * blocks], zero points <c>{name}_zero_points</c> [N * ceil(blocks * bits / 8)].
/// </summary>
public static class MatMulNBitsRewriter
{
    /// <summary>Domain of ONNX Runtime's contrib operators.</summary>
    public const string MicrosoftDomain = "com.microsoft";

    /// <summary>Rewrites <paramref name="model"/> in place, every weight rounded to nearest.</summary>
    public static MatMulNBitsResult Apply(ModelProto model, QuantizationOptions options) => Apply(model, options, null);

    /// <summary>
    /// Rewrites <paramref name="model"/> in place; <paramref name="quantize"/>, when given, quantizes each weight
    /// (float32 [K, N] row-major, the block size to use) instead of round-to-nearest, at the bits it chooses (a
    /// mixed-precision quantizer may keep a sensitive weight at 8 bits in a 4-bit model).
    /// </summary>
    public static MatMulNBitsResult Apply(ModelProto model, QuantizationOptions options, Func<MatMulCandidate, float[], int, QuantizedMatrix>? quantize)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        int defaultBits = options.Bits ?? throw new ArgumentException("Bits must be set to quantize.", nameof(options));
        GraphProto graph = model.Graph;
        (IReadOnlyList<MatMulCandidate> candidates, IReadOnlyList<string> kept) = FindCandidates(model, options);
        Dictionary<string, TensorProto> initializers = graph.Initializer.ToDictionary(t => t.Name, StringComparer.Ordinal);
        var uses = new Dictionary<string, int>(StringComparer.Ordinal);
        CountUses(graph, uses);

        int quantized = 0;
        long bytesBefore = 0, bytesAfter = 0;
        foreach (MatMulCandidate candidate in candidates)
        {
            NodeProto node = graph.Node[candidate.NodeIndex];
            string weightName = candidate.WeightName;
            TensorProto weight = initializers[weightName];
            int k = candidate.K, n = candidate.N;
            int blockSize = EffectiveBlockSize(options.BlockSize, k);
            float[] values = ReadFloats(weight);
            int bits = defaultBits;
            QuantizedMatrix q = quantize is null
                ? BlockQuantizer.Quantize(values, k, n, bits, blockSize, options.Symmetric)
                : quantize(candidate, values, blockSize);
            bits = q.Bits;
            bytesBefore += values.LongLength * sizeof(float);
            bytesAfter += q.StorageBytes;

            string packedName = $"{weightName}_Q{bits}";
            string scalesName = $"{weightName}_scales";
            graph.Initializer.Add(Tensor(packedName, DataType.Uint8, q.Packed, n, q.BlocksPerColumn, q.BlobSize));
            graph.Initializer.Add(Tensor(scalesName, DataType.Float, MemoryMarshal.AsBytes(q.Scales.AsSpan()).ToArray(), q.Scales.Length));
            var replacement = new NodeProto
            {
                Name = node.Name.Length > 0 ? $"{node.Name}_Q{bits}" : $"{weightName}_MatMulNBits",
                OpType = "MatMulNBits",
                Domain = MicrosoftDomain,
            };
            replacement.Input.Add(node.Input[0]);
            replacement.Input.Add(packedName);
            replacement.Input.Add(scalesName);
            if (q.ZeroPoints is not null)
            {
                string zeroPointsName = $"{weightName}_zero_points";
                graph.Initializer.Add(Tensor(zeroPointsName, DataType.Uint8, q.ZeroPoints, q.ZeroPoints.Length));
                replacement.Input.Add(zeroPointsName);
            }

            replacement.Output.AddRange(node.Output);
            replacement.Attribute.Add(Int("K", k));
            replacement.Attribute.Add(Int("N", n));
            replacement.Attribute.Add(Int("bits", bits));
            replacement.Attribute.Add(Int("block_size", blockSize));

            // Like ORT's quantizer: the attribute is optional, and some providers reject it, so 0 is left out.
            if (options.AccuracyLevel != 0)
            {
                replacement.Attribute.Add(Int("accuracy_level", options.AccuracyLevel));
            }

            graph.Node[candidate.NodeIndex] = replacement;
            quantized++;
            if (--uses[weightName] == 0)
            {
                graph.Initializer.Remove(weight);
                initializers.Remove(weightName);
                ValueInfoProto? asInput = graph.Input.FirstOrDefault(v => v.Name == weightName);
                if (asInput is not null)
                {
                    graph.Input.Remove(asInput);
                }
            }
        }

        if (quantized > 0 && !model.OpsetImport.Any(o => o.Domain == MicrosoftDomain))
        {
            model.OpsetImport.Add(new OperatorSetIdProto { Domain = MicrosoftDomain, Version = 1 });
        }

        return new MatMulNBitsResult(quantized, kept, bytesBefore, bytesAfter);
    }

    /// <summary>
    /// The MatMuls <see cref="Apply(ModelProto, QuantizationOptions)"/> replaces (in graph order), and those it keeps
    /// with the reason: a MatMul qualifies when its B is a 2-D float32 initializer and it is not the classifier
    /// (unless <see cref="QuantizationOptions.QuantizeLmHead"/>).
    /// </summary>
    public static (IReadOnlyList<MatMulCandidate> Candidates, IReadOnlyList<string> Kept) FindCandidates(ModelProto model, QuantizationOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        GraphProto graph = model.Graph;
        Dictionary<string, TensorProto> initializers = graph.Initializer.ToDictionary(t => t.Name, StringComparer.Ordinal);
        var graphOutputs = graph.Output.Select(o => o.Name).ToHashSet(StringComparer.Ordinal);
        var candidates = new List<MatMulCandidate>();
        var kept = new List<string>();
        for (int i = 0; i < graph.Node.Count; i++)
        {
            NodeProto node = graph.Node[i];
            if (node.OpType != "MatMul" || node.Domain.Length > 0 || node.Input.Count != 2)
            {
                continue;
            }

            string weightName = node.Input[1];
            if (!initializers.TryGetValue(weightName, out TensorProto? weight))
            {
                kept.Add($"{node.Name}: B is not an initializer");
                continue;
            }

            if (weight.DataType != (int)DataType.Float || weight.Dims.Count != 2)
            {
                kept.Add($"{weightName}: not a 2-D float32 initializer");
                continue;
            }

            bool lmHead = weightName.Contains("lm_head", StringComparison.Ordinal) || node.Output.Any(graphOutputs.Contains);
            if (lmHead && !options.QuantizeLmHead)
            {
                kept.Add($"{weightName}: lm_head kept (--quantize-lm-head quantizes it)");
                continue;
            }

            candidates.Add(new MatMulCandidate(i, node.Input[0], weightName, checked((int)weight.Dims[0]), checked((int)weight.Dims[1])));
        }

        return (candidates, kept);
    }

    /// <summary>
    /// The block size used for a weight with <paramref name="k"/> input features: the one asked for, or when K is
    /// shorter, the smallest power of two (at least 16) that holds K. One block per column either way, so the values
    /// and scales are the same; only the padding that would fill a longer block is saved.
    /// </summary>
    public static int EffectiveBlockSize(int blockSize, int k) =>
        Math.Min(blockSize, Math.Max(16, (int)BitOperations.RoundUpToPowerOf2((uint)k)));

    /// <summary>The float32 values of an inline initializer.</summary>
    internal static float[] ReadFloats(TensorProto tensor)
    {
        if (tensor.DataLocation == TensorProto.Types.DataLocation.External)
        {
            throw new InvalidDataException($"Initializer {tensor.Name} is external data; load the model with OnnxModelFile.Load.");
        }

        return tensor.RawData.Length > 0 ? MemoryMarshal.Cast<byte, float>(tensor.RawData.Span).ToArray() : [.. tensor.FloatData];
    }

    internal static TensorProto Tensor(string name, DataType type, byte[] raw, params long[] dims)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)type, RawData = UnsafeByteOperations.UnsafeWrap(raw) };
        tensor.Dims.AddRange(dims);
        return tensor;
    }

    private static AttributeProto Int(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    /// <summary>How often each value name is read, subgraphs included (they may read outer initializers).</summary>
    internal static void CountUses(GraphProto graph, Dictionary<string, int> uses)
    {
        foreach (NodeProto node in graph.Node)
        {
            foreach (string input in node.Input)
            {
                uses[input] = uses.GetValueOrDefault(input) + 1;
            }

            foreach (AttributeProto attribute in node.Attribute)
            {
                if (attribute.G is not null)
                {
                    CountUses(attribute.G, uses);
                }

                foreach (GraphProto subgraph in attribute.Graphs)
                {
                    CountUses(subgraph, uses);
                }
            }
        }

        foreach (ValueInfoProto output in graph.Output)
        {
            uses[output.Name] = uses.GetValueOrDefault(output.Name) + 1;
        }
    }
}

/// <summary>What <see cref="MatMulNBitsRewriter.Apply"/> did.</summary>
/// <param name="Quantized">MatMuls replaced.</param>
/// <param name="Kept">MatMuls left alone, each with the reason.</param>
/// <param name="WeightBytesBefore">float32 bytes of the weights replaced.</param>
/// <param name="WeightBytesAfter">Bytes of their packed weights, scales and zero points.</param>
public sealed record MatMulNBitsResult(int Quantized, IReadOnlyList<string> Kept, long WeightBytesBefore, long WeightBytesAfter);

/// <summary>A MatMul the rewriter replaces.</summary>
/// <param name="NodeIndex">Its index in the graph's nodes.</param>
/// <param name="Input">The activation it multiplies (A of <c>Y = A B</c>).</param>
/// <param name="WeightName">Its float32 weight initializer, [K, N].</param>
/// <param name="K">Input features.</param>
/// <param name="N">Output features.</param>
public sealed record MatMulCandidate(int NodeIndex, string Input, string WeightName, int K, int N);
