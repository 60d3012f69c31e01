using System.Runtime.InteropServices;
using Google.Protobuf;
using Onnx;

namespace LlmAspire.Inference.Engine.Kernels;

/// <summary>
/// Rewrites a model, in memory, for a CPU session with our kernels: each ONNX <c>MatMul</c> of float32 activations by a
/// float32 [K, N] initializer that no other node reads becomes <see cref="PackedMatMulKernel"/>'s
/// <c>com.llmaspire.PackedMatMul</c>, its weight stored packed in the initializer's place. ONNX Runtime then holds one
/// copy of each weight, as it does when MLAS prepacks one (a kernel of ours over the <c>MatMul</c> as written would hold a
/// second: a custom kernel cannot take over an initializer). The folder on disk is not touched, so GenAI and the CUDA
/// provider run the model as written.
/// </summary>
internal static class PackedMatMulRewriter
{
    /// <summary>The external-data location the rewritten initializers name; no such file is read (or needed).</summary>
    public const string InMemoryLocation = "llmaspire-packed-weights-in-memory";

    /// <summary>
    /// Weights below this many elements stay MLAS's: a custom kernel's call costs a few C API calls more than MLAS's,
    /// which a small MatMul does not earn back (stories260K's 64-wide weights, rewritten, decoded one stream 25 % slower).
    /// The 100M demo's smallest weight has 589,824.
    /// </summary>
    public const long DefaultMinimumElements = 1L << 18;

    /// <summary>A packed weight is written through one span.</summary>
    private const long MaxPackedFloats = int.MaxValue;

    /// <summary>
    /// The model at <paramref name="modelPath"/> with its eligible <c>MatMul</c> nodes (weights of at least
    /// <paramref name="minimumElements"/>) rewritten, serialized without the
    /// packed weights, which <paramref name="weights"/> holds (<see cref="PackedWeights.AddTo"/> the session's options;
    /// ONNX Runtime copies them as the session opens, so dispose them then); null when nothing is rewritten: this CPU lacks AVX-512, no node qualifies, or the model keeps weights
    /// in external files or has subgraphs (left as written rather than rewritten in part).
    /// </summary>
    public static byte[]? TryRewrite(string modelPath, out PackedWeights? weights, long minimumElements = DefaultMinimumElements)
    {
        weights = null;
        if (!PackedMatMulKernel.IsSupported || new FileInfo(modelPath).Length < minimumElements * sizeof(float))
        {
            // A file smaller than one weight worth packing holds none: not even parsed.
            return null;
        }

        ModelProto model;
        using (FileStream stream = File.OpenRead(modelPath))
        {
            model = ModelProto.Parser.ParseFrom(stream);
        }

        return TryRewrite(model, out weights, minimumElements);
    }

    /// <summary>As <see cref="TryRewrite(string, out PackedWeights?, long)"/>, for a model already parsed (rewritten in place).</summary>
    public static byte[]? TryRewrite(ModelProto model, out PackedWeights? weights, long minimumElements = DefaultMinimumElements)
    {
        ArgumentNullException.ThrowIfNull(model);
        weights = null;
        if (!PackedMatMulKernel.IsSupported)
        {
            return null;
        }

        var packed = new PackedWeights();
        try
        {
            if (Rewrite(model, packed, minimumElements) == 0)
            {
                packed.Dispose();
                return null;
            }

            byte[] bytes = model.ToByteArray();
            weights = packed;
            return bytes;
        }
        catch
        {
            packed.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Rewrites <paramref name="model"/> in place, packing each rewritten node's weight into <paramref name="weights"/>
    /// (the graph keeps the initializer's name, with the packed shape, as external data that
    /// <see cref="PackedWeights.AddTo"/> supplies: nothing is read from disk); returns how many nodes now run packed.
    /// </summary>
    public static int Rewrite(ModelProto model, PackedWeights weights, long minimumElements = DefaultMinimumElements)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(weights);
        GraphProto graph = model.Graph;
        if (graph is null
            || graph.Initializer.Any(t => t.DataLocation == TensorProto.Types.DataLocation.External)
            || graph.Node.Any(n => n.Attribute.Any(a => a.G is not null || a.Graphs.Count > 0)))
        {
            return 0;
        }

        // Names read more than once, or seen outside the node list, keep their layout.
        var reads = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (NodeProto node in graph.Node)
        {
            foreach (string input in node.Input)
            {
                reads[input] = reads.GetValueOrDefault(input) + 1;
            }
        }

        var declared = new HashSet<string>(StringComparer.Ordinal);
        declared.UnionWith(graph.Input.Select(v => v.Name));
        declared.UnionWith(graph.Output.Select(v => v.Name));
        declared.UnionWith(graph.ValueInfo.Select(v => v.Name));

        var initializers = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < graph.Initializer.Count; i++)
        {
            initializers.TryAdd(graph.Initializer[i].Name, i);
        }

        int count = 0;
        foreach (NodeProto node in graph.Node)
        {
            if (node.OpType != "MatMul" || node.Domain is not ("" or "ai.onnx") || node.Input.Count != 2 || node.Output.Count != 1
                || !initializers.TryGetValue(node.Input[1], out int index) || reads[node.Input[1]] != 1 || declared.Contains(node.Input[1]))
            {
                continue;
            }

            TensorProto weight = graph.Initializer[index];
            if (weight.DataType != (int)TensorProto.Types.DataType.Float || weight.Dims.Count != 2 || weight.Dims[0] <= 0 || weight.Dims[1] <= 0
                || weight.Dims[0] > int.MaxValue || weight.Dims[1] > int.MaxValue)
            {
                continue;
            }

            int k = (int)weight.Dims[0], n = (int)weight.Dims[1];
            if ((long)k * n < minimumElements)
            {
                continue;
            }

            long packedFloats = (long)PackedMatMulKernel.PanelCount(n) * k * PackedMatMulKernel.Width;
            ReadOnlySpan<float> values = weight.RawData.Length > 0 ? MemoryMarshal.Cast<byte, float>(weight.RawData.Span) : weight.FloatData.ToArray();
            if (packedFloats > MaxPackedFloats || values.Length != (long)k * n)
            {
                continue;
            }

            PackedWeight packed = weights.Add(weight.Name, PackedMatMulKernel.PanelCount(n), k, PackedMatMulKernel.Width);
            PackedMatMulKernel.Pack(values, k, n, packed.Span);

            // The initializer stays in the graph with the packed shape, as external data the session is handed in memory.
            var replacement = new TensorProto { Name = weight.Name, DataType = weight.DataType, DataLocation = TensorProto.Types.DataLocation.External };
            replacement.Dims.Add([PackedMatMulKernel.PanelCount(n), k, PackedMatMulKernel.Width]);
            replacement.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = InMemoryLocation });
            replacement.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = "0" });
            replacement.ExternalData.Add(new StringStringEntryProto { Key = "length", Value = (packedFloats * sizeof(float)).ToString(System.Globalization.CultureInfo.InvariantCulture) });
            graph.Initializer[index] = replacement;

            node.OpType = PackedMatMulKernel.Name;
            node.Domain = PackedMatMulKernel.Domain;
            node.Attribute.Add(new AttributeProto { Name = "N", Type = AttributeProto.Types.AttributeType.Int, I = n });
            count++;
        }

        if (count > 0 && !model.OpsetImport.Any(o => o.Domain == PackedMatMulKernel.Domain))
        {
            model.OpsetImport.Add(new OperatorSetIdProto { Domain = PackedMatMulKernel.Domain, Version = 1 });
        }

        return count;
    }
}
