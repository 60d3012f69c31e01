using Google.Protobuf;
using LlmAspire.Inference.Engine.Kernels;
using LlmAspire.Inference.Models;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Onnx;
using static LlmAspire.Tests.Inference.KernelTestGraphs;

namespace LlmAspire.Tests.Inference;

/// <summary>
/// <see cref="SwiGluKernel"/>, which the load-time rewrite puts in the place of a fused gate/up projection's Split,
/// Sigmoid, Mul, Mul: outputs equal to ONNX Runtime's on the graph as written (its QuickGelu fusion and Mul) bit for bit
/// for one row, a few and many (the parallel path), with values beyond the logistic's clamp; and a SwiGLU whose gate is
/// also read elsewhere is left as written.
/// </summary>
public sealed class SwiGluKernelTests
{
    [Avx512Theory]
    [InlineData(1, 3072, 2)]
    [InlineData(3, 100, 1)]
    [InlineData(16, 3072, 2)]
    [InlineData(300, 1024, 2)]
    [InlineData(7, 13, 2)]
    public void Rewritten_SameOutputsAsOnnxRuntime_BitForBit(int rows, int width, int threads)
    {
        var random = new Random((rows * 31) + width);
        ModelProto model = SwiGluGraph(random, width, gateReadElsewhere: false);
        byte[] asWritten = model.ToByteArray();

        // Inputs over [-25, 25] and weights over [-1, 1]: gates past the logistic's clamp at ±18 as well as near zero.
        float[] input = [.. Enumerable.Range(0, rows * 16).Select(_ => (float)((random.NextDouble() * 50) - 25))];
        float[] theirs = Run(asWritten, packed: null, threads, rows, input);
        byte[]? rewritten = PackedMatMulRewriter.TryRewrite(model, out PackedWeights? packed, minimumElements: 0);
        Assert.NotNull(rewritten);
        float[] ours;
        using (packed)
        {
            Assert.Equal(1, packed!.SwiGlus);
            GraphProto graph = ModelProto.Parser.ParseFrom(rewritten).Graph;
            Assert.Contains(graph.Node, node => node.OpType == SwiGluKernel.Name);
            Assert.DoesNotContain(graph.Node, node => node.OpType is "Split" or "Sigmoid" or "Mul");
            ours = Run(rewritten, packed, threads, rows, input);
        }

        Assert.Equal(rows * width, ours.Length);
        Assert.Equal(theirs, ours);
        Assert.Contains(ours, v => v != 0f);
    }

    [Avx512Fact]
    public void AGateReadElsewhere_KeepsTheGraphAsWritten()
    {
        ModelProto model = SwiGluGraph(new Random(5), 64, gateReadElsewhere: true);
        byte[]? rewritten = PackedMatMulRewriter.TryRewrite(model, out PackedWeights? packed, minimumElements: 0);
        using (packed)
        {
            Assert.NotNull(rewritten);
            Assert.Equal(0, packed!.SwiGlus);
            Assert.Contains(ModelProto.Parser.ParseFrom(rewritten).Graph.Node, node => node.OpType == "Split");
        }
    }

    [Avx512Fact]
    public void FuseOnly_ASmallModelWhoseMatMulsStayMlas_HasItsSwiGluFusedWithTheSameOutputs()
    {
        var random = new Random(9);
        ModelProto model = SwiGluGraph(random, 24, gateReadElsewhere: false);
        string path = Path.Combine(Path.GetTempPath(), $"llmaspire-swiglu-{Guid.NewGuid():N}.onnx");
        try
        {
            File.WriteAllBytes(path, model.ToByteArray());

            // Its one MatMul (16 × 48) is far below the packing threshold: the full rewrite leaves the file alone.
            Assert.Null(PackedMatMulRewriter.TryRewrite(path, out PackedWeights? none));
            Assert.Null(none);
            byte[]? fused = PackedMatMulRewriter.TryFuseSwiGlus(path, out PackedWeights? packed);
            Assert.NotNull(fused);
            using (packed)
            {
                Assert.Equal((0, 1), (packed!.Count, packed.SwiGlus));
                GraphProto graph = ModelProto.Parser.ParseFrom(fused).Graph;
                Assert.Equal(["MatMul", SwiGluKernel.Name], graph.Node.Select(n => n.OpType));
                float[] input = [.. Enumerable.Range(0, 5 * 16).Select(_ => (float)((random.NextDouble() * 8) - 4))];
                Assert.Equal(Run(model.ToByteArray(), packed: null, 1, 5, input), Run(fused, packed, 1, 5, input));
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Avx512Fact]
    public void FuseOnly_AModelWithoutASwiGluOrAboveTheSizeLimit_IsLeftAsWritten()
    {
        string path = Path.Combine(Path.GetTempPath(), $"llmaspire-swiglu-{Guid.NewGuid():N}.onnx");
        try
        {
            File.WriteAllBytes(path, SwiGluGraph(new Random(2), 8, gateReadElsewhere: true).ToByteArray());
            Assert.Null(PackedMatMulRewriter.TryFuseSwiGlus(path, out PackedWeights? none));
            Assert.Null(none);

            using (FileStream file = File.Create(path))
            {
                file.Write(SwiGluGraph(new Random(2), 8, gateReadElsewhere: false).ToByteArray());
                file.SetLength(PackedMatMulRewriter.FuseOnlyMaximumBytes + 1); // not parsed: only its size is read
            }

            Assert.Null(PackedMatMulRewriter.TryFuseSwiGlus(path, out none));
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>x [rows, 16] → MatMul by [16, 2·width] (gate | up) → Split, Sigmoid, Mul, Mul → y [rows, width]; optionally the gate also a graph output.</summary>
    private static ModelProto SwiGluGraph(Random random, int width, bool gateReadElsewhere)
    {
        var g = new OnnxGraphBuilder("swiglu");
        g.Input("x", TensorProto.Types.DataType.Float, "rows", 16);
        string both = g.Node("MatMul", ["x", g.Initializer("w", Values(random, 16 * 2 * width, 1f), 16, 2 * width)], "gate_up");
        string[] parts = g.NodeMulti("Split", [both, g.Ints("split", width, width)], ["gate", "up"], ("axis", -1L));
        string silu = g.Node("Mul", [parts[0], g.Node("Sigmoid", [parts[0]], "gate_sigmoid")], "gate_silu");
        g.NodeMulti("Mul", [silu, parts[1]], ["y"]);
        g.Output("y", TensorProto.Types.DataType.Float, "rows", width);
        if (gateReadElsewhere)
        {
            g.Output("gate", TensorProto.Types.DataType.Float, "rows", width);
        }

        return ModelProto.Parser.ParseFrom(Serialize(g));
    }

    private static float[] Run(byte[] model, PackedWeights? packed, int threads, int rows, float[] input)
    {
        using var options = new SessionOptions { IntraOpNumThreads = threads };
        LlmAspireKernels.Register(options);
        packed?.AddTo(options);
        using var session = new InferenceSession(model, options);
        using IDisposableReadOnlyCollection<DisposableNamedOnnxValue> results = session.Run(
            [NamedOnnxValue.CreateFromTensor("x", new DenseTensor<float>(input, [rows, 16]))], ["y"]);
        return results.Single().AsTensor<float>().ToArray();
    }
}
