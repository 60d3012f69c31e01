using Google.Protobuf;
using LlmAspire.Inference.Engine;
using LlmAspire.Inference.Engine.Kernels;
using LlmAspire.Inference.Models;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Onnx;
using static LlmAspire.Tests.Inference.KernelTestGraphs;

namespace LlmAspire.Tests.Inference;

/// <summary>
/// LlmAspire's float32 MatMul over weights packed at load (<see cref="PackedMatMulKernel"/>, through
/// <see cref="PackedMatMulRewriter"/>) against ONNX Runtime's MLAS on the graph as written: outputs equal bit for bit
/// for one row, a few, 16 and many (two row blocks), K within one block of 256 and across twelve, a last panel of fewer
/// than 64 columns, N of 1, activations of rank 3, on one and two threads; which nodes the rewrite takes and leaves;
/// and a whole decoder giving the same logits, to the bit, with and without it (and the SwiGLUs it fuses,
/// <see cref="SwiGluKernel"/>).
/// </summary>
public sealed class PackedMatMulKernelTests
{
    public static TheoryData<int, int, int, int> Shapes => new()
    {
        { 1, 768, 1280, 2 },
        { 1, 64, 172, 1 },
        { 3, 300, 100, 1 },
        { 4, 768, 768, 2 },
        { 7, 64, 172, 1 },
        { 16, 768, 1280, 2 },
        { 16, 3072, 768, 2 },
        { 65, 256, 130, 2 },
        { 1, 513, 1, 1 },
        { 300, 96, 64, 2 },
    };

    [Avx512Theory]
    [MemberData(nameof(Shapes))]
    public void Rewritten_SameOutputsAsMlas_BitForBit(int rows, int k, int n, int threads)
    {
        var random = new Random((rows * 7919) + (k * 31) + n);
        float[] weight = Values(random, k * n, 0.05f);
        float[] input = Values(random, rows * k, 1f);
        ModelProto model = MatMulGraph(k, n, weight);
        byte[] asWritten = model.ToByteArray();

        float[] theirs = Run(asWritten, packed: null, threads, [1, rows, k], input);
        byte[]? rewritten = PackedMatMulRewriter.TryRewrite(model, out PackedWeights? packed, minimumElements: 0);
        Assert.NotNull(rewritten);
        float[] ours;
        using (packed)
        {
            Assert.Equal(1, packed!.Count);
            ours = Run(rewritten, packed, threads, [1, rows, k], input);
        }

        Assert.Equal(rows * n, ours.Length);
        Assert.Equal(theirs, ours);
        Assert.Contains(ours, v => v != 0f);
    }

    /// <summary>
    /// Only a MatMul by a float32 [K, N] initializer that nothing else reads is rewritten: one whose weight a second
    /// MatMul shares, one by a computed tensor and one by a rank-3 weight keep ONNX Runtime's kernel (and a float16
    /// weight, below). The rewritten graph imports our domain and opens, runs and agrees with the graph as written.
    /// </summary>
    [Avx512Fact]
    public void Rewrite_TakesOnlyMatMulsByTheirOwnFloat32Weights()
    {
        var random = new Random(3);
        var g = new OnnxGraphBuilder("mixed");
        g.Input("x", TensorProto.Types.DataType.Float, "rows", 32);
        string own = g.Initializer("own", Values(random, 32 * 16, 0.1f), 32, 16);
        string shared = g.Initializer("shared", Values(random, 32 * 16, 0.1f), 32, 16);
        string cube = g.Initializer("cube", Values(random, 2 * 32 * 16, 0.1f), 2, 32, 16);
        g.NodeMulti("MatMul", ["x", own], ["y_own"]);
        g.NodeMulti("MatMul", ["x", shared], ["y_shared_1"]);
        g.NodeMulti("MatMul", ["x", shared], ["y_shared_2"]);
        g.NodeMulti("MatMul", ["x", g.Node("Transpose", [g.Node("Identity", ["x"], "copy")], "computed", ("perm", new long[] { 1, 0 }))], ["y_computed"]);
        g.NodeMulti("MatMul", ["x", cube], ["y_cube"]);
        g.Output("y_own", TensorProto.Types.DataType.Float, "rows", 16);
        g.Output("y_shared_1", TensorProto.Types.DataType.Float, "rows", 16);
        g.Output("y_shared_2", TensorProto.Types.DataType.Float, "rows", 16);
        g.Output("y_computed", TensorProto.Types.DataType.Float, "rows", "rows");
        g.Output("y_cube", TensorProto.Types.DataType.Float, 2, "rows", 16);
        ModelProto model = Model(g);
        byte[] asWritten = model.ToByteArray();

        // With the engine's thresholds these 32 x 16 weights are too small to earn our kernel's call, and the one that
        // qualifies is a quarter of the weights' bytes, not worth re-serializing the model for.
        Assert.Null(PackedMatMulRewriter.TryRewrite(Model(g), out PackedWeights? none));
        Assert.Null(none);
        Assert.Null(PackedMatMulRewriter.TryRewrite(Model(g), out none, minimumElements: 0));
        byte[]? rewritten = PackedMatMulRewriter.TryRewrite(model, out PackedWeights? packed, minimumElements: 0, minimumShare: 0);

        Assert.NotNull(rewritten);
        using (packed)
        {
            Assert.Equal(1, packed!.Count);
            NodeProto[] matMuls = [.. model.Graph.Node.Where(n => n.Output[0].StartsWith("y_", StringComparison.Ordinal))];
            Assert.Equal(["y_own"], matMuls.Where(n => n.OpType == PackedMatMulKernel.Name).Select(n => n.Output[0]));
            Assert.All(matMuls.Where(n => n.Output[0] != "y_own"), n => Assert.Equal("MatMul", n.OpType));
            Assert.Contains(model.OpsetImport, o => o.Domain == PackedMatMulKernel.Domain);
            Assert.Equal([PackedMatMulKernel.PanelCount(16), 32L, PackedMatMulKernel.Width], model.Graph.Initializer.Single(t => t.Name == "own").Dims);

            float[] input = Values(random, 5 * 32, 1f);
            Assert.Equal(Run(asWritten, null, 1, [5, 32], input, "y_own"), Run(rewritten, packed, 1, [5, 32], input, "y_own"));
        }
    }

    /// <summary>
    /// The survey that spares a model a full parse (its nodes and initializer headers only) says what the rewrite would
    /// do: yes for a float32 MatMul weight above the thresholds, no when the weight is small, when it is a small share of
    /// the bytes, or when it is read twice.
    /// </summary>
    [Avx512Fact]
    public void Survey_WithoutTheWeightsBytes_AgreesWithTheRewrite()
    {
        var g = new OnnxGraphBuilder("survey");
        g.Input("x", TensorProto.Types.DataType.Float, "rows", 64);
        g.NodeMulti("MatMul", ["x", g.Initializer("big", new float[64 * 4096], 64, 4096)], ["y"]);
        g.NodeMulti("Gather", [g.Initializer("table", new float[64 * 8192], 8192, 64), g.Initializer("ids", new long[] { 0 }, 1)], ["row"]);
        g.Output("y", TensorProto.Types.DataType.Float, "rows", 4096);
        g.Output("row", TensorProto.Types.DataType.Float, 1, 64);
        byte[] bytes = Serialize(g);

        Assert.True(Survey(bytes, PackedMatMulRewriter.DefaultMinimumElements, minimumShare: 0.3));
        Assert.False(Survey(bytes, PackedMatMulRewriter.DefaultMinimumElements, PackedMatMulRewriter.DefaultMinimumShare)); // a third of the bytes
        Assert.False(Survey(bytes, (64 * 4096) + 1, minimumShare: 0));
        Assert.Null(PackedMatMulRewriter.TryRewrite(ModelProto.Parser.ParseFrom(bytes), out _));
        using (var weights = new PackedWeights())
        {
            Assert.Equal(1, PackedMatMulRewriter.Rewrite(ModelProto.Parser.ParseFrom(bytes), weights, minimumShare: 0.3));
        }

        ModelProto shared = ModelProto.Parser.ParseFrom(bytes);
        shared.Graph.Node.Add(new NodeProto { OpType = "MatMul", Input = { "x", "big" }, Output = { "y2" } });
        Assert.False(Survey(shared.ToByteArray(), 0, 0));

        static bool Survey(byte[] model, long minimumElements, double minimumShare)
        {
            using var stream = new MemoryStream(model);
            return PackedMatMulRewriter.WorthRewriting(stream, minimumElements, minimumShare);
        }
    }

    /// <summary>A model that keeps weights in an external file, or has a subgraph, or float16 weights, is left as written.</summary>
    [Avx512Fact]
    public void Rewrite_LeavesExternalDataSubgraphsAndFloat16()
    {
        ModelProto half = MatMulGraph(8, 8, new float[64]);
        half.Graph.Initializer[0].DataType = (int)TensorProto.Types.DataType.Float16;
        half.Graph.Initializer[0].RawData = ByteString.CopyFrom(new byte[64 * 2]);

        ModelProto external = MatMulGraph(8, 8, new float[64]);
        TensorProto weight = external.Graph.Initializer[0];
        weight.RawData = ByteString.Empty;
        weight.DataLocation = TensorProto.Types.DataLocation.External;
        weight.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = "model.onnx.data" });

        ModelProto subgraph = MatMulGraph(8, 8, new float[64]);
        subgraph.Graph.Node.Add(new NodeProto { OpType = "If", Attribute = { new AttributeProto { Name = "then_branch", Type = AttributeProto.Types.AttributeType.Graph, G = new GraphProto() } } });

        Assert.Null(PackedMatMulRewriter.TryRewrite(external, out PackedWeights? none, minimumElements: 0));
        Assert.Null(none);
        Assert.Null(PackedMatMulRewriter.TryRewrite(half, out none, minimumElements: 0));
        Assert.Null(PackedMatMulRewriter.TryRewrite(subgraph, out none, minimumElements: 0));
        Assert.Equal("MatMul", subgraph.Graph.Node[0].OpType);
    }

    /// <summary>The session with our domain creates our kernel for PackedMatMul nodes: a weight that does not match N fails with our message.</summary>
    [Avx512Fact]
    public void SessionWithOurDomain_RefusesAWeightThatIsNotPackedForN()
    {
        var g = new OnnxGraphBuilder("wrong");
        g.Input("x", TensorProto.Types.DataType.Float, "rows", 8);
        string w = g.Initializer("w", new float[2 * 8 * PackedMatMulKernel.Width], 2, 8, PackedMatMulKernel.Width);
        g.DomainNode(PackedMatMulKernel.Domain, PackedMatMulKernel.Name, ["x", w], ["y"], ("N", 200L));
        g.Output("y", TensorProto.Types.DataType.Float, "rows", 200);
        ModelProto model = Model(g);
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = PackedMatMulKernel.Domain, Version = 1 });
        using var options = new SessionOptions();
        LlmAspireKernels.Register(options);

        var ex = Assert.ThrowsAny<OnnxRuntimeException>(() => new InferenceSession(model.ToByteArray(), options).Dispose());
        Assert.Contains("PackedMatMul takes a float32 weight packed", ex.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// A whole decoder (the tiny demo model widened so its MatMuls split across two threads): every weight MatMul
    /// rewritten, and the logits of a prefill, a chunk and 30 decode steps equal to the bit those of the same session
    /// with MLAS's MatMul — so greedy tokens cannot change.
    /// </summary>
    [Avx512Fact]
    public void Decoder_SameLogitsWithAndWithoutPackedWeights()
    {
        using var temp = TestPaths.CreateTempDirectory();
        (string graph, LlamaConfig config, DecoderIoNames names) = KernelTestGraphs.WidenedTinyDecoder(temp.Path);
        using DecoderSession packed = DecoderSession.Open(graph, config, ExecutionProviderPreference.Cpu, names, 2);
        using DecoderSession mlas = DecoderSession.Open(graph, config, ExecutionProviderPreference.Cpu, names, 2, packWeights: false);
        Assert.Equal(AttentionKernelChoice.LlmAspire, packed.Attention);
        Assert.Equal(AttentionKernelChoice.LlmAspire, mlas.Attention);
        Assert.Equal(0, mlas.PackedMatMuls);
        Assert.True(packed.PackedMatMuls >= 4 * config.Layers, $"{packed.PackedMatMuls} MatMuls packed");
        Assert.Equal(SwiGluKernel.IsSupported ? config.Layers : 0, packed.SwiGlus);
        Assert.Equal(0, mlas.SwiGlus);

        using DecoderState a = packed.CreateState();
        using DecoderState b = mlas.CreateState();
        var random = new Random(9);
        int[] prompt = [.. Enumerable.Range(0, 40).Select(_ => random.Next(config.VocabSize))];
        Assert.Equal(mlas.Forward(b, prompt, allPositions: true), packed.Forward(a, prompt, allPositions: true));
        Assert.Equal(mlas.Forward(b, [5, 6, 7], allPositions: true), packed.Forward(a, [5, 6, 7], allPositions: true));
        for (int step = 0; step < 30; step++)
        {
            int token = random.Next(config.VocabSize);
            Assert.Equal(mlas.Forward(b, [token]), packed.Forward(a, [token]));
        }
    }

    private static ModelProto MatMulGraph(int k, int n, float[] weight)
    {
        var g = new OnnxGraphBuilder("matmul");
        g.Input("x", TensorProto.Types.DataType.Float, "batch", "rows", k);
        g.NodeMulti("MatMul", ["x", g.Initializer("w", weight, k, n)], ["y"]);
        g.Output("y", TensorProto.Types.DataType.Float, "batch", "rows", n);
        return Model(g);
    }

    private static ModelProto Model(OnnxGraphBuilder g) => ModelProto.Parser.ParseFrom(Serialize(g));

    private static float[] Run(byte[] model, PackedWeights? packed, int threads, long[] shape, float[] input, string output = "y")
    {
        using var options = new SessionOptions { IntraOpNumThreads = threads };
        LlmAspireKernels.Register(options);
        packed?.AddTo(options);
        using var session = new InferenceSession(model, options);
        using IDisposableReadOnlyCollection<DisposableNamedOnnxValue> results = session.Run(
            [NamedOnnxValue.CreateFromTensor("x", new DenseTensor<float>(input, [.. shape.Select(d => (int)d)]))], [output]);
        return results.Single().AsTensor<float>().ToArray();
    }
}

/// <summary>A fact that needs AVX-512, where our packed MatMul is registered and models are rewritten for it.</summary>
internal sealed class Avx512FactAttribute : FactAttribute
{
    public Avx512FactAttribute()
    {
        if (!PackedMatMulKernel.IsSupported)
        {
            Skip = "Needs a CPU with AVX-512 (elsewhere MLAS runs every MatMul and no model is rewritten).";
        }
    }
}

/// <summary>The theory form of <see cref="Avx512FactAttribute"/>.</summary>
internal sealed class Avx512TheoryAttribute : TheoryAttribute
{
    public Avx512TheoryAttribute()
    {
        if (!PackedMatMulKernel.IsSupported)
        {
            Skip = "Needs a CPU with AVX-512 (elsewhere MLAS runs every MatMul and no model is rewritten).";
        }
    }
}
