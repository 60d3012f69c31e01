using LlmAspire.Inference.Engine.Kernels;
using LlmAspire.Inference.Models;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Onnx;
using static LlmAspire.Tests.Inference.KernelTestGraphs;

namespace LlmAspire.Tests.Inference;

/// <summary>
/// LlmAspire's QuickGelu kernel against ONNX Runtime's own: outputs equal bit for bit (MLAS's FMA3 logistic reproduced
/// operation for operation) for SiLU (α = 1, what ONNX Runtime fuses a graph's Sigmoid and Mul into) and GELU's α =
/// 1.702, across the kernel's paths — one row, a length that leaves a tail of fewer than eight, 16 rows of an MLP's
/// width, and a prefill large enough to be split across two threads — with inputs past the ±18 clamp.
/// </summary>
public sealed class QuickGeluKernelTests
{
    public static TheoryData<int, int, float, int> Shapes => new()
    {
        { 1, 3072, 1f, 1 },
        { 3, 37, 1f, 1 },
        { 16, 3072, 1f, 2 },
        { 16, 3072, 1.702f, 2 },
        { 5, 13, 1.702f, 1 },
        { 300, 3072, 1f, 2 },
    };

    [FmaTheory]
    [MemberData(nameof(Shapes))]
    public void OurKernel_SameOutputsAsOnnxRuntimes_BitForBit(int rows, int width, float alpha, int threads)
    {
        float[] input = Values(new Random((rows * 7919) + width), rows * width, 25f);
        byte[] model = QuickGeluGraph(width, alpha);

        float[] ours = Run(model, ours: true, threads, rows, width, input);
        float[] theirs = Run(model, ours: false, threads, rows, width, input);

        Assert.Equal(theirs, ours);
        Assert.Contains(ours, v => v > 1f);
        Assert.Contains(ours, v => v < 0f);
    }

    /// <summary>
    /// Every 2⁻¹⁶th value of [−20, 20], on both sides of the ±18 input clamp. Around x ≈ 17.8 the polynomial's σ comes
    /// out as 1.0000001: ONNX Runtime's SiLU path (α = 1) clamps it to 1 and its logistic path (other α) does not, which
    /// first versions of ours got wrong once in a million inputs.
    /// </summary>
    [FmaTheory]
    [InlineData(1f)]
    [InlineData(1.702f)]
    public void DenseSweep_SameOutputsAsOnnxRuntimes_BitForBit(float alpha)
    {
        const int Width = 4096;
        float[] input = new float[40 * 65536];
        for (int i = 0; i < input.Length; i++)
        {
            input[i] = -20f + (i / 65536f);
        }

        byte[] model = QuickGeluGraph(Width, alpha);

        Assert.Equal(Run(model, ours: false, 1, input.Length / Width, Width, input), Run(model, ours: true, 1, input.Length / Width, Width, input));
    }

    /// <summary>A graph's SiLU as written on disk (Sigmoid, then Mul), which ONNX Runtime fuses into QuickGelu.</summary>
    [FmaFact]
    public void SigmoidTimesInput_FusedIntoOurs_SameOutputsAsOnnxRuntimes()
    {
        var g = new OnnxGraphBuilder("silu");
        g.Input("input", TensorProto.Types.DataType.Float, "rows", 3072);
        string sigmoid = g.Node("Sigmoid", ["input"], "sigmoid");
        g.NodeMulti("Mul", ["input", sigmoid], ["output"]);
        g.Output("output", TensorProto.Types.DataType.Float, "rows", 3072);
        byte[] model = Serialize(g);
        float[] input = Values(new Random(5), 16 * 3072, 25f);

        Assert.Equal(Run(model, ours: false, 2, 16, 3072, input), Run(model, ours: true, 2, 16, 3072, input));
    }

    /// <summary>The session with our domain creates our kernel for QuickGelu nodes: an alpha that is not finite fails with our message.</summary>
    [FmaFact]
    public void SessionWithOurDomain_CreatesOurKernel()
    {
        using var options = new SessionOptions();
        LlmAspireKernels.Register(options);

        var ex = Assert.ThrowsAny<OnnxRuntimeException>(() => new InferenceSession(QuickGeluGraph(8, float.NaN), options).Dispose());
        Assert.Contains("QuickGelu needs a finite alpha", ex.Message, StringComparison.Ordinal);
    }

    private static float[] Run(byte[] model, bool ours, int threads, int rows, int width, float[] input)
    {
        using var options = new SessionOptions { IntraOpNumThreads = threads };
        if (ours)
        {
            LlmAspireKernels.Register(options);
        }

        using var session = new InferenceSession(model, options);
        using IDisposableReadOnlyCollection<DisposableNamedOnnxValue> results = session.Run(
            [NamedOnnxValue.CreateFromTensor("input", new DenseTensor<float>(input, [rows, width]))]);
        return results.Single().AsTensor<float>().ToArray();
    }

    private static byte[] QuickGeluGraph(int width, float alpha)
    {
        var g = new OnnxGraphBuilder("quickgelu");
        g.Input("input", TensorProto.Types.DataType.Float, "rows", width);
        g.DomainNode(LlmAspireKernels.Domain, "QuickGelu", ["input"], ["output"], ("alpha", alpha));
        g.Output("output", TensorProto.Types.DataType.Float, "rows", width);
        return Serialize(g);
    }
}

/// <summary>A fact that needs an x64 CPU with AVX2 and FMA, where MLAS runs the logistic kernel ours reproduces and ours is registered.</summary>
internal sealed class FmaFactAttribute : FactAttribute
{
    public FmaFactAttribute()
    {
        if (!QuickGeluKernel.IsSupported)
        {
            Skip = "Needs an x64 CPU with AVX2 and FMA (elsewhere our QuickGelu kernel is not registered).";
        }
    }
}

/// <summary>The theory form of <see cref="FmaFactAttribute"/>.</summary>
internal sealed class FmaTheoryAttribute : TheoryAttribute
{
    public FmaTheoryAttribute()
    {
        if (!QuickGeluKernel.IsSupported)
        {
            Skip = "Needs an x64 CPU with AVX2 and FMA (elsewhere our QuickGelu kernel is not registered).";
        }
    }
}
