using System.Runtime.InteropServices;
using Google.Protobuf;
using Onnx;

namespace LlmAspire.Inference.Engine.Kernels;

/// <summary>
/// Rewrites a model, in memory, for a CPU session with our kernels: each ONNX <c>MatMul</c> of float32 activations by a
/// float32 [K, N] initializer that no other node reads becomes <see cref="PackedMatMulKernel"/>'s
/// <c>com.llmaspire.PackedMatMul</c>, its weight stored packed in the initializer's place; each 8-bit
/// <c>com.microsoft.MatMulNBits</c> at <c>accuracy_level</c> 4 (MLAS's int8 path) whose weight, scales and zero points
/// no other node reads becomes <see cref="PackedMatMulNBitsKernel"/>'s <c>com.llmaspire.PackedMatMulNBits</c>, the three
/// repacked likewise (a 4-bit node, or one MLAS computes in float32, stays). ONNX Runtime then holds one
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

    /// <summary>
    /// The share of the model's initializer bytes the rewritten weights must make up: an int8 model's float32 classifier
    /// alone (1.3 % of the 100M int8 model) cost 0.9 s more load and 130 MB more peak for it.
    /// </summary>
    public const double DefaultMinimumShare = 0.5;

    /// <summary>A packed weight is written through one span.</summary>
    private const long MaxPackedFloats = int.MaxValue;

    /// <summary>
    /// The model at <paramref name="modelPath"/> with its eligible <c>MatMul</c> nodes (weights of at least
    /// <paramref name="minimumElements"/>, together at least <paramref name="minimumShare"/> of the initializer bytes) rewritten, serialized without the
    /// packed weights, which <paramref name="weights"/> holds (<see cref="PackedWeights.AddTo"/> the session's options;
    /// ONNX Runtime copies them as the session opens, so dispose them then); null when nothing is rewritten: this CPU lacks AVX-512, no node qualifies, or the model keeps weights
    /// in external files or has subgraphs (left as written rather than rewritten in part).
    /// </summary>
    public static byte[]? TryRewrite(string modelPath, out PackedWeights? weights, long minimumElements = DefaultMinimumElements, double minimumShare = DefaultMinimumShare)
    {
        weights = null;
        if (!PackedMatMulKernel.IsSupported || new FileInfo(modelPath).Length < minimumElements)
        {
            // A file smaller than one weight worth packing (an 8-bit one: a byte per element) holds none: not even parsed.
            return null;
        }

        using (FileStream stream = File.OpenRead(modelPath))
        {
            if (!WorthRewriting(stream, minimumElements, minimumShare))
            {
                return null;
            }
        }

        ModelProto model;
        using (FileStream stream = File.OpenRead(modelPath))
        {
            model = ModelProto.Parser.ParseFrom(stream);
        }

        return TryRewrite(model, out weights, minimumElements, minimumShare);
    }

    /// <summary>
    /// Whether the model in <paramref name="stream"/> has float32 MatMul or 8-bit MatMulNBits weights that <see cref="Rewrite"/> would take,
    /// read from its nodes and its initializers' headers without their bytes — so a model of 4-bit weights is not parsed
    /// whole (0.5 s and its size again in memory, for the 100M model) only to be left as written.
    /// </summary>
    internal static bool WorthRewriting(Stream stream, long minimumElements, double minimumShare)
    {
        const int GraphField = 7, NodeField = 1, InitializerField = 5;
        var input = new CodedInputStream(stream, leaveOpen: true);
        var matMulWeights = new Dictionary<string, int>(StringComparer.Ordinal);
        var nBitsNodes = new List<NodeProto>();
        var reads = new Dictionary<string, int>(StringComparer.Ordinal);
        var tensors = new Dictionary<string, (int Type, long Elements, int Rank, long Bytes)>(StringComparer.Ordinal);
        long allBytes = 0;
        for (uint tag = input.ReadTag(); tag != 0; tag = input.ReadTag())
        {
            if (WireFormat.GetTagFieldNumber(tag) != GraphField || WireFormat.GetTagWireType(tag) != WireFormat.WireType.LengthDelimited)
            {
                input.SkipLastField();
                continue;
            }

            long graphEnd = input.ReadLength() + input.Position;
            while (input.Position < graphEnd)
            {
                uint field = input.ReadTag();
                switch (WireFormat.GetTagFieldNumber(field))
                {
                    case NodeField:
                        var node = new NodeProto();
                        input.ReadMessage(node);
                        if (node.Attribute.Any(a => a.G is not null || a.Graphs.Count > 0))
                        {
                            return false;
                        }

                        foreach (string name in node.Input)
                        {
                            reads[name] = reads.GetValueOrDefault(name) + 1;
                        }

                        if (node.OpType == "MatMul" && node.Domain is ("" or "ai.onnx") && node.Input.Count == 2)
                        {
                            matMulWeights[node.Input[1]] = 1;
                        }
                        else if (NBitsShape(node) is not null)
                        {
                            nBitsNodes.Add(node);
                        }

                        break;
                    case InitializerField:
                        long start = input.Position;
                        (string Name, int Type, long Elements, int Rank, bool External)? header = ReadTensorHeader(input);
                        long bytes = input.Position - start;
                        allBytes += bytes;
                        if (header is not { } h || h.External)
                        {
                            return false;
                        }

                        tensors[h.Name] = (h.Type, h.Elements, h.Rank, bytes);
                        break;
                    default:
                        input.SkipLastField();
                        break;
                }
            }
        }

        long eligible = 0;
        foreach (string name in matMulWeights.Keys)
        {
            if (tensors.TryGetValue(name, out var t) && t.Type == (int)TensorProto.Types.DataType.Float && t.Rank == 2
                && t.Elements >= minimumElements && reads.GetValueOrDefault(name) == 1)
            {
                eligible += t.Bytes;
            }
        }

        foreach (NodeProto node in nBitsNodes)
        {
            if (NBitsEligible(node, minimumElements, name => tensors.TryGetValue(name, out var t) ? (t.Type, t.Elements) : null, name => reads.GetValueOrDefault(name) == 1) is not null)
            {
                eligible += NBitsInputs(node).Sum(name => name is null ? 0 : tensors[name].Bytes);
            }
        }

        return eligible > 0 && eligible >= minimumShare * allBytes;
    }

    /// <summary>A MatMulNBits node's K, N and block size when it is one <see cref="PackedMatMulNBitsKernel"/> computes as MLAS does (8 bits, <c>accuracy_level</c> 4); else null.</summary>
    private static (int K, int N, int BlockSize)? NBitsShape(NodeProto node)
    {
        if (node.OpType != "MatMulNBits" || node.Domain != "com.microsoft" || node.Input.Count is < 3 or > 6 || node.Output.Count != 1
            || (node.Input.Count > 4 && node.Input[4].Length > 0))
        {
            return null;
        }

        long Attribute(string name, long fallback) => node.Attribute.FirstOrDefault(a => a.Name == name) is { Type: AttributeProto.Types.AttributeType.Int } a ? a.I : fallback;
        long k = Attribute("K", 0), n = Attribute("N", 0), blockSize = Attribute("block_size", 0);
        return Attribute("bits", 4) == 8 && Attribute("accuracy_level", 0) == 4 && n > 0 && n <= int.MaxValue && PackedMatMulNBitsKernel.Takes(k, blockSize)
            ? ((int)k, (int)n, (int)blockSize)
            : null;
    }

    /// <summary>A MatMulNBits node's weight, scales and zero points (null when absent).</summary>
    private static string?[] NBitsInputs(NodeProto node) =>
        [node.Input[1], node.Input[2], node.Input.Count > 3 && node.Input[3].Length > 0 ? node.Input[3] : null];

    /// <summary>
    /// The K, N and block size of <paramref name="node"/> when <see cref="PackedMatMulNBitsKernel"/> takes it (else null): its shape qualifies (<see cref="NBitsShape"/>),
    /// K · N is at least <paramref name="minimumElements"/>, its weight (uint8, N · K), scales (float, N · blocks) and zero
    /// points (uint8, N · blocks, or absent) are initializers only it reads, and its bias, if any, is a float initializer of N.
    /// </summary>
    private static (int K, int N, int BlockSize)? NBitsEligible(NodeProto node, long minimumElements, Func<string, (int Type, long Elements)?> tensor, Func<string, bool> readOnce)
    {
        if (NBitsShape(node) is not (int k, int n, int blockSize) || (long)k * n < minimumElements)
        {
            return null;
        }

        const int UInt8 = (int)TensorProto.Types.DataType.Uint8, Float = (int)TensorProto.Types.DataType.Float;
        long blocks = (long)n * (k / blockSize);
        string?[] inputs = NBitsInputs(node);
        string? bias = node.Input.Count > 5 && node.Input[5].Length > 0 ? node.Input[5] : null;
        bool takes = tensor(inputs[0]!) == (UInt8, (long)k * n) && readOnce(inputs[0]!)
            && tensor(inputs[1]!) == (Float, blocks) && readOnce(inputs[1]!)
            && (inputs[2] is null || (tensor(inputs[2]!) == (UInt8, blocks) && readOnce(inputs[2]!)))
            && (bias is null || tensor(bias) == (Float, n));
        return takes ? (k, n, blockSize) : null;
    }

    /// <summary>An initializer's name, type, element count, rank and whether its data is external; its bytes skipped.</summary>
    private static (string Name, int Type, long Elements, int Rank, bool External)? ReadTensorHeader(CodedInputStream input)
    {
        const int DimsField = 1, DataTypeField = 2, NameField = 8, DataLocationField = 14;
        long end = input.ReadLength() + input.Position;
        string name = string.Empty;
        int type = 0, rank = 0;
        long elements = 1;
        bool external = false;
        while (input.Position < end)
        {
            uint tag = input.ReadTag();
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case DimsField when WireFormat.GetTagWireType(tag) == WireFormat.WireType.Varint:
                    elements *= input.ReadInt64();
                    rank++;
                    break;
                case DimsField:
                    long dimsEnd = input.ReadLength() + input.Position;
                    while (input.Position < dimsEnd)
                    {
                        elements *= input.ReadInt64();
                        rank++;
                    }

                    break;
                case DataTypeField:
                    type = input.ReadInt32();
                    break;
                case NameField:
                    name = input.ReadString();
                    break;
                case DataLocationField:
                    external = input.ReadEnum() == (int)TensorProto.Types.DataLocation.External;
                    break;
                default:
                    input.SkipLastField();
                    break;
            }
        }

        return input.Position == end ? (name, type, elements, rank, external) : null;
    }

    /// <summary>
    /// Models up to this size whose MatMuls stay MLAS's still have their SwiGLUs fused (<see cref="TryFuseSwiGlus"/>): in a
    /// model this small a step is mostly the cost of its operators' calls, not of their arithmetic, and the fusion puts
    /// one call in the place of three per layer (stories260K, 1.1 MB: 10 calls fewer a step; one stream 12-35 % faster,
    /// bench/results/swiglu-small).
    /// </summary>
    public const long FuseOnlyMaximumBytes = 32L << 20;

    /// <summary>
    /// The model at <paramref name="modelPath"/> with its SwiGLUs fused into <see cref="SwiGluKernel"/> and its MatMuls
    /// as written, serialized; <paramref name="weights"/> packs nothing and counts the fused SwiGLUs. Null when the file
    /// is above <see cref="FuseOnlyMaximumBytes"/>, this CPU lacks AVX-512, the model keeps weights in external files or
    /// has subgraphs, or it has no SwiGLU spelled as <see cref="FuseSwiGlu"/> finds it.
    /// </summary>
    public static byte[]? TryFuseSwiGlus(string modelPath, out PackedWeights? weights)
    {
        weights = null;
        if (!SwiGluKernel.IsSupported || new FileInfo(modelPath).Length > FuseOnlyMaximumBytes)
        {
            return null;
        }

        ModelProto model;
        using (FileStream stream = File.OpenRead(modelPath))
        {
            model = ModelProto.Parser.ParseFrom(stream);
        }

        GraphProto graph = model.Graph;
        if (!Rewritable(graph))
        {
            return null;
        }

        int fused = FuseSwiGlu(graph, Reads(graph));
        if (fused == 0)
        {
            return null;
        }

        if (!model.OpsetImport.Any(o => o.Domain == PackedMatMulKernel.Domain))
        {
            model.OpsetImport.Add(new OperatorSetIdProto { Domain = PackedMatMulKernel.Domain, Version = 1 });
        }

        var elements = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (TensorProto t in graph.Initializer)
        {
            elements.TryAdd(t.Name, t.Dims.Aggregate(1L, (product, d) => product * d));
        }

        weights = new PackedWeights
        {
            SwiGlus = fused,
            LargeMatMulsLeft = LargeMatMuls(graph, DefaultMinimumElements, name => elements.TryGetValue(name, out long count) ? count : null),
        };
        return model.ToByteArray();
    }

    /// <summary>As <see cref="TryRewrite(string, out PackedWeights?, long, double)"/>, for a model already parsed (rewritten in place).</summary>
    public static byte[]? TryRewrite(ModelProto model, out PackedWeights? weights, long minimumElements = DefaultMinimumElements, double minimumShare = DefaultMinimumShare)
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
            if (Rewrite(model, packed, minimumElements, minimumShare) == 0)
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
    public static int Rewrite(ModelProto model, PackedWeights weights, long minimumElements = DefaultMinimumElements, double minimumShare = DefaultMinimumShare)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(weights);
        GraphProto graph = model.Graph;
        if (!Rewritable(graph))
        {
            return 0;
        }

        // Names read more than once, or seen outside the node list, keep their layout.
        Dictionary<string, int> reads = Reads(graph);

        var declared = new HashSet<string>(StringComparer.Ordinal);
        declared.UnionWith(graph.Input.Select(v => v.Name));
        declared.UnionWith(graph.Output.Select(v => v.Name));
        declared.UnionWith(graph.ValueInfo.Select(v => v.Name));

        var initializers = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < graph.Initializer.Count; i++)
        {
            initializers.TryAdd(graph.Initializer[i].Name, i);
        }

        var eligible = new List<(NodeProto Node, int Index, int K, int N, long PackedFloats)>();
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
            long packedFloats = (long)PackedMatMulKernel.PanelCount(n) * k * PackedMatMulKernel.Width;
            long stored = weight.RawData.Length > 0 ? weight.RawData.Length / sizeof(float) : weight.FloatData.Count;
            if ((long)k * n >= minimumElements && packedFloats <= MaxPackedFloats && stored == (long)k * n)
            {
                eligible.Add((node, index, k, n, packedFloats));
            }
        }

        var nBits = new List<(NodeProto Node, int K, int N, int BlockSize)>();
        foreach (NodeProto node in graph.Node)
        {
            if (PackedMatMulNBitsKernel.IsSupported
                && NBitsEligible(node, minimumElements, Tensor, name => reads[name] == 1 && !declared.Contains(name)) is (int k, int n, int blockSize))
            {
                nBits.Add((node, k, n, blockSize));
            }
        }

        (int Type, long Elements)? Tensor(string name)
        {
            if (!initializers.TryGetValue(name, out int index))
            {
                return null;
            }

            TensorProto t = graph.Initializer[index];
            long elements = t.Dims.Aggregate(1L, (product, d) => product * d);
            long stored = t.DataType == (int)TensorProto.Types.DataType.Float
                ? (t.RawData.Length > 0 ? t.RawData.Length / sizeof(float) : t.FloatData.Count)
                : t.RawData.Length;
            return stored == elements ? (t.DataType, elements) : null;
        }

        // A model whose weights are mostly something else (an int8 model's float32 classifier) is not worth a rewrite,
        // which parses and serializes the whole model at load for a few per cent of its MatMul time.
        long eligibleBytes = eligible.Sum(e => (long)e.K * e.N * sizeof(float))
            + nBits.Sum(e => NBitsInputs(e.Node).Sum(name => name is null ? 0 : graph.Initializer[initializers[name]].CalculateSize()));
        long allBytes = graph.Initializer.Sum(t => (long)t.CalculateSize());
        if (eligible.Count + nBits.Count == 0 || eligibleBytes < minimumShare * allBytes)
        {
            return 0;
        }

        foreach ((NodeProto node, int k, int n, int blockSize) in nBits)
        {
            string?[] inputs = NBitsInputs(node);
            TensorProto weight = graph.Initializer[initializers[inputs[0]!]];
            TensorProto scales = graph.Initializer[initializers[inputs[1]!]];
            TensorProto? zeroPoints = inputs[2] is null ? null : graph.Initializer[initializers[inputs[2]!]];
            int panels = PackedMatMulNBitsKernel.PanelCount(n);
            long perBlock = (long)panels * 4 * (k / blockSize) * PackedMatMulNBitsKernel.Group;
            string zeroPointsName = inputs[2] ?? $"{inputs[0]}_llmaspire_zero_points";
            PackedWeight packedWeight = weights.AddOfType(weight.Name, OrtApiTable.ElementUInt8, 1, panels, k, PackedMatMulNBitsKernel.Panel);
            PackedWeight packedScales = weights.AddOfType(scales.Name, OrtApiTable.ElementFloat, sizeof(float), panels, 4, k / blockSize, PackedMatMulNBitsKernel.Group);
            PackedWeight packedZeroPoints = weights.AddOfType(zeroPointsName, OrtApiTable.ElementUInt8, 1, panels, 4, k / blockSize, PackedMatMulNBitsKernel.Group);
            ReadOnlySpan<float> scaleValues = scales.RawData.Length > 0 ? MemoryMarshal.Cast<byte, float>(scales.RawData.Span) : scales.FloatData.ToArray();
            PackedMatMulNBitsKernel.Pack(
                weight.RawData.Span,
                scaleValues,
                zeroPoints is null ? default : zeroPoints.RawData.Span,
                k,
                n,
                blockSize,
                packedWeight.As<byte>(),
                packedScales.As<float>(),
                packedZeroPoints.As<byte>());

            graph.Initializer[initializers[weight.Name]] = External(weight.Name, TensorProto.Types.DataType.Uint8, (long)panels * k * PackedMatMulNBitsKernel.Panel, panels, k, PackedMatMulNBitsKernel.Panel);
            graph.Initializer[initializers[scales.Name]] = External(scales.Name, TensorProto.Types.DataType.Float, perBlock * sizeof(float), panels, 4, k / blockSize, PackedMatMulNBitsKernel.Group);
            TensorProto zeroPointsTensor = External(zeroPointsName, TensorProto.Types.DataType.Uint8, perBlock, panels, 4, k / blockSize, PackedMatMulNBitsKernel.Group);
            if (zeroPoints is null)
            {
                graph.Initializer.Add(zeroPointsTensor);
            }
            else
            {
                graph.Initializer[initializers[zeroPoints.Name]] = zeroPointsTensor;
            }

            string? bias = node.Input.Count > 5 && node.Input[5].Length > 0 ? node.Input[5] : null;
            string activations = node.Input[0];
            node.Input.Clear();
            node.Input.Add([activations, weight.Name, scales.Name, zeroPointsName]);
            if (bias is not null)
            {
                node.Input.Add(bias);
            }

            node.OpType = PackedMatMulNBitsKernel.Name;
            node.Domain = PackedMatMulKernel.Domain;
            node.Attribute.Clear();
            node.Attribute.Add(new AttributeProto { Name = "N", Type = AttributeProto.Types.AttributeType.Int, I = n });
            node.Attribute.Add(new AttributeProto { Name = "block_size", Type = AttributeProto.Types.AttributeType.Int, I = blockSize });
        }

        foreach ((NodeProto node, int index, int k, int n, long packedFloats) in eligible)
        {
            TensorProto weight = graph.Initializer[index];
            ReadOnlySpan<float> values = weight.RawData.Length > 0 ? MemoryMarshal.Cast<byte, float>(weight.RawData.Span) : weight.FloatData.ToArray();
            PackedWeight packed = weights.Add(weight.Name, PackedMatMulKernel.PanelCount(n), k, PackedMatMulKernel.Width);
            PackedMatMulKernel.Pack(values, k, n, packed.Span);

            // The initializer stays in the graph with the packed shape, as external data the session is handed in memory.
            graph.Initializer[index] = External(weight.Name, TensorProto.Types.DataType.Float, packedFloats * sizeof(float), PackedMatMulKernel.PanelCount(n), k, PackedMatMulKernel.Width);

            node.OpType = PackedMatMulKernel.Name;
            node.Domain = PackedMatMulKernel.Domain;
            node.Attribute.Add(new AttributeProto { Name = "N", Type = AttributeProto.Types.AttributeType.Int, I = n });
        }

        int count = eligible.Count + nBits.Count;
        weights.SwiGlus = SwiGluKernel.IsSupported ? FuseSwiGlu(graph, reads) : 0;
        weights.LargeMatMulsLeft = LargeMatMuls(graph, minimumElements, name => Tensor(name)?.Elements);
        if (count > 0 && !model.OpsetImport.Any(o => o.Domain == PackedMatMulKernel.Domain))
        {
            model.OpsetImport.Add(new OperatorSetIdProto { Domain = PackedMatMulKernel.Domain, Version = 1 });
        }

        return count;
    }

    /// <summary>
    /// Puts a <see cref="SwiGluKernel"/> in the place of each SwiGLU spelled over a fused gate/up projection: Split (into
    /// two equal halves along the last axis) → gate, up; Sigmoid(gate); Mul(gate, σ); Mul(that, up) — each intermediate
    /// read only there and not a graph output. Returns how many.
    /// </summary>
    private static int FuseSwiGlu(GraphProto graph, Dictionary<string, int> reads)
    {
        var outputs = new HashSet<string>(graph.Output.Select(v => v.Name), StringComparer.Ordinal);
        var producers = new Dictionary<string, NodeProto>(StringComparer.Ordinal);
        var consumers = new Dictionary<string, List<NodeProto>>(StringComparer.Ordinal);
        foreach (NodeProto node in graph.Node)
        {
            foreach (string output in node.Output)
            {
                producers[output] = node;
            }

            foreach (string input in node.Input)
            {
                if (!consumers.TryGetValue(input, out List<NodeProto>? list))
                {
                    consumers[input] = list = [];
                }

                list.Add(node);
            }
        }

        bool Standard(NodeProto node, string opType) => node.OpType == opType && node.Domain is "" or "ai.onnx";
        bool Internal(string name, int readCount) => reads.GetValueOrDefault(name) == readCount && !outputs.Contains(name);
        var removed = new HashSet<NodeProto>();
        int fused = 0;
        foreach (NodeProto split in graph.Node.Where(n => Standard(n, "Split")).ToList())
        {
            if (split.Input.Count != 2 || split.Output.Count != 2
                || split.Attribute.FirstOrDefault(a => a.Name == "axis") is not { Type: AttributeProto.Types.AttributeType.Int, I: -1 }
                || graph.Initializer.FirstOrDefault(t => t.Name == split.Input[1]) is not { DataType: (int)TensorProto.Types.DataType.Int64 } sizes
                || (sizes.RawData.Length > 0 ? MemoryMarshal.Cast<byte, long>(sizes.RawData.Span).ToArray() : [.. sizes.Int64Data]) is not [long first, long second]
                || first != second || first <= 0)
            {
                continue;
            }

            string gate = split.Output[0], up = split.Output[1];
            if (!Internal(gate, 2) || !Internal(up, 1)
                || consumers[gate].FirstOrDefault(n => Standard(n, "Sigmoid")) is not { } sigmoid || sigmoid.Output.Count != 1 || !Internal(sigmoid.Output[0], 1)
                || consumers[sigmoid.Output[0]].Single() is not { } silu || !Standard(silu, "Mul") || silu.Output.Count != 1 || !Internal(silu.Output[0], 1)
                || !(silu.Input.Contains(gate) && silu.Input.Contains(sigmoid.Output[0]))
                || consumers[silu.Output[0]].Single() is not { } product || !Standard(product, "Mul") || product.Output.Count != 1
                || !(product.Input.Contains(silu.Output[0]) && product.Input.Contains(up)))
            {
                continue;
            }

            string both = split.Input[0];
            product.OpType = SwiGluKernel.Name;
            product.Domain = PackedMatMulKernel.Domain;
            product.Input.Clear();
            product.Input.Add(both);
            removed.UnionWith([split, sigmoid, silu]);
            fused++;
        }

        if (fused > 0)
        {
            var kept = graph.Node.Where(n => !removed.Contains(n)).ToList();
            graph.Node.Clear();
            graph.Node.Add(kept);
        }

        return fused;
    }

    /// <summary>Whether a graph can be rewritten at all: it keeps no weight in external files and has no subgraph.</summary>
    private static bool Rewritable(GraphProto? graph) =>
        graph is not null
        && !graph.Initializer.Any(t => t.DataLocation == TensorProto.Types.DataLocation.External)
        && !graph.Node.Any(n => n.Attribute.Any(a => a.G is not null || a.Graphs.Count > 0));

    /// <summary>How many times each name is read by the graph's nodes.</summary>
    private static Dictionary<string, int> Reads(GraphProto graph)
    {
        var reads = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (string input in graph.Node.SelectMany(n => n.Input))
        {
            reads[input] = reads.GetValueOrDefault(input) + 1;
        }

        return reads;
    }

    /// <summary>
    /// How many nodes outside our domain are a MatMul by an initializer (its elements by <paramref name="elementsOf"/>,
    /// null for none) or a MatMulNBits of at least <paramref name="minimumElements"/> weight elements: work large enough
    /// for ONNX Runtime's intra-op threads.
    /// </summary>
    private static int LargeMatMuls(GraphProto graph, long minimumElements, Func<string, long?> elementsOf) =>
        graph.Node.Count(node => node.Domain != PackedMatMulKernel.Domain && node.OpType switch
        {
            "MatMul" => node.Input.Count == 2 && elementsOf(node.Input[1]) is long count && count >= minimumElements,
            "MatMulNBits" => node.Attribute.FirstOrDefault(a => a.Name == "K") is { } k && node.Attribute.FirstOrDefault(a => a.Name == "N") is { } n && k.I * n.I >= minimumElements,
            _ => false,
        });

    /// <summary>An initializer of <paramref name="dims"/> declared as external data that the session is handed in memory (<see cref="PackedWeights.AddTo"/>).</summary>
    private static TensorProto External(string name, TensorProto.Types.DataType type, long bytes, params long[] dims)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)type, DataLocation = TensorProto.Types.DataLocation.External };
        tensor.Dims.Add(dims);
        tensor.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = InMemoryLocation });
        tensor.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = "0" });
        tensor.ExternalData.Add(new StringStringEntryProto { Key = "length", Value = bytes.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        return tensor;
    }
}
