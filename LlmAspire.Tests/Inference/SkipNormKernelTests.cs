using LlmAspire.Inference.Engine.Kernels;
using LlmAspire.Inference.Models;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Onnx;
using static LlmAspire.Tests.Inference.KernelTestGraphs;

namespace LlmAspire.Tests.Inference;

/// <summary>
/// LlmAspire's SkipSimplifiedLayerNormalization kernel against ONNX Runtime's own on a one-node graph: the normalized
/// output and the residual sum equal bit for bit (the squares are added in ONNX Runtime's order, so int8 graphs, whose
/// activations are rounded to integers, decode the same tokens), across the kernel's paths — one row, rows in blocks of
/// eight with a scalar remainder, a hidden size that is not a multiple of eight, a bias and a skip broadcast over rows,
/// and a prefill large enough to be split across two threads.
/// </summary>
public sealed class SkipNormKernelTests
{
    public static TheoryData<int, int, bool, bool, int> Shapes => new()
    {
        { 1, 768, false, false, 1 },
        { 16, 768, false, false, 2 },
        { 13, 768, false, false, 1 },
        { 16, 37, false, false, 1 },
        { 5, 64, true, true, 1 },
        { 300, 768, true, false, 2 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void OurKernel_SameOutputsAsOnnxRuntimes_BitForBit(int rows, int hidden, bool bias, bool broadcastSkip, int threads)
    {
        var random = new Random((rows * 7919) + hidden);
        float[] input = Values(random, rows * hidden, 3f);
        float[] skip = Values(random, broadcastSkip ? hidden : rows * hidden, 2f);
        byte[] model = Graph(hidden, Values(random, hidden, 1f), bias ? Values(random, hidden, 0.5f) : null, broadcastSkip ? skip : null);

        (float[] output, float[] sum) ours = Run(model, ours: true, threads, rows, hidden, input, broadcastSkip ? null : skip);
        (float[] output, float[] sum) theirs = Run(model, ours: false, threads, rows, hidden, input, broadcastSkip ? null : skip);

        Assert.Equal(theirs.sum, ours.sum);
        Assert.Equal(theirs.output, ours.output);
        Assert.Contains(ours.output, v => v != 0f);
    }

    /// <summary>The session with our domain runs our kernel: a gamma of the wrong length fails with our message.</summary>
    [Fact]
    public void SessionWithOurDomain_RunsOurKernel()
    {
        var g = new OnnxGraphBuilder("skipnorm");
        g.Input("input", TensorProto.Types.DataType.Float, 2, 8);
        g.Input("skip", TensorProto.Types.DataType.Float, 2, 8);
        g.Input("gamma", TensorProto.Types.DataType.Float, "g");
        g.DomainNode(LlmAspireKernels.Domain, "SkipSimplifiedLayerNormalization", ["input", "skip", "gamma"], ["output"], ("epsilon", 1e-5f));
        g.Output("output", TensorProto.Types.DataType.Float, 2, 8);
        using var options = new SessionOptions();
        LlmAspireKernels.Register(options);
        using var session = new InferenceSession(Serialize(g), options);

        var ex = Assert.Throws<OnnxRuntimeException>(() => session.Run(
        [
            NamedOnnxValue.CreateFromTensor("input", new DenseTensor<float>(new float[16], [2, 8])),
            NamedOnnxValue.CreateFromTensor("skip", new DenseTensor<float>(new float[16], [2, 8])),
            NamedOnnxValue.CreateFromTensor("gamma", new DenseTensor<float>(new float[5], [5])),
        ]).Dispose());
        Assert.Contains("LlmAspire SkipSimplifiedLayerNormalization: gamma has 5 elements", ex.Message, StringComparison.Ordinal);
    }

    private static (float[] Output, float[] Sum) Run(byte[] model, bool ours, int threads, int rows, int hidden, float[] input, float[]? skip)
    {
        using var options = new SessionOptions { IntraOpNumThreads = threads };
        if (ours)
        {
            LlmAspireKernels.Register(options);
        }

        using var session = new InferenceSession(model, options);
        // A skip broadcast over rows is one of shape [1, hidden] against an input of [rows, 1, hidden] (ONNX Runtime's kernel
        // wants the last two dimensions to match).
        int[] dims = skip is null ? [rows, 1, hidden] : [rows, hidden];
        List<NamedOnnxValue> feeds = [NamedOnnxValue.CreateFromTensor("input", new DenseTensor<float>(input, dims))];
        if (skip is not null)
        {
            feeds.Add(NamedOnnxValue.CreateFromTensor("skip", new DenseTensor<float>(skip, [rows, hidden])));
        }

        using IDisposableReadOnlyCollection<DisposableNamedOnnxValue> results = session.Run(feeds);
        return (results.Single(r => r.Name == "output").AsTensor<float>().ToArray(), results.Single(r => r.Name == "sum").AsTensor<float>().ToArray());
    }

    private static byte[] Graph(int hidden, float[] gamma, float[]? bias, float[]? broadcastSkip)
    {
        var g = new OnnxGraphBuilder("skipnorm");
        object[] dims = broadcastSkip is null ? ["rows", hidden] : ["rows", 1, hidden];
        g.Input("input", TensorProto.Types.DataType.Float, dims);
        string skip = "skip";
        if (broadcastSkip is null)
        {
            g.Input(skip, TensorProto.Types.DataType.Float, "rows", hidden);
        }
        else
        {
            skip = g.Initializer("skip", broadcastSkip, 1, hidden);
        }

        List<string> inputs = ["input", skip, g.Initializer("gamma", gamma, hidden)];
        if (bias is not null)
        {
            inputs.Add(g.Initializer("bias", bias, hidden));
        }

        g.DomainNode(LlmAspireKernels.Domain, "SkipSimplifiedLayerNormalization", [.. inputs], ["output", string.Empty, string.Empty, "sum"], ("epsilon", 1e-6f));
        g.Output("output", TensorProto.Types.DataType.Float, dims);
        g.Output("sum", TensorProto.Types.DataType.Float, dims);
        return Serialize(g);
    }
}
