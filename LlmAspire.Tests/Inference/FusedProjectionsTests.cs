using LlmAspire.Inference.Models;
using LlmAspire.Inference.Models.Quantization;
using LlmAspire.Tests.Inference.Quantization;
using Onnx;
using Xunit.Abstractions;

namespace LlmAspire.Tests.Inference;

/// <summary>
/// The fused q/k/v and gate/up projections (<see cref="LlamaOnnxBuilder.Build"/>'s default) against the separate ones,
/// for every demo architecture (biases, q/k norms with their Split, padded heads, GeGLU, sandwich norms): the same
/// logits in float32 and after int8 MatMulNBits quantization, from four weight MatMuls per layer instead of seven.
/// </summary>
public sealed class FusedProjectionsTests(ITestOutputHelper output)
{
    /// <summary>
    /// Largest logit difference allowed, relative to the largest logit. Each output column is the same dot product in
    /// both graphs; only the kernel's blocking over a wider matrix may sum it in another order, which moves a float32
    /// result by a few units in the last place (~1e-7 relative) per projection.
    /// </summary>
    private const double Tolerance = 1e-5;

    private static readonly int[] Tokens = [1, 40, 7, 63, 12, 5, 30, 2, 19, 44, 8, 71, 3, 26, 300, 301];

    /// <summary>Every architecture <c>create-demo</c> writes.</summary>
    public static TheoryData<string> Architectures => [.. DemoPresets.Architectures];

    [Theory]
    [MemberData(nameof(Architectures))]
    public void FusedProjections_SameLogitsAsSeparate_InFewerMatMuls(string architecture)
    {
        using var temp = TestPaths.CreateTempDirectory();
        DemoPreset preset = DemoPresets.Get(DemoPresets.Tiny.Name, architecture);
        int layers = preset.Config.Layers;
        string fused = Path.Combine(temp.Path, "fused");
        string separate = Path.Combine(temp.Path, "separate");
        DemoPresets.Write(preset, fused);
        DemoPresets.Write(preset, separate, fuseProjections: false);

        // qkv, o, gate/up and down per layer against q, k, v, o, gate, up and down; the classifier in both.
        Assert.Equal(4 * layers + 1, MatMuls(fused));
        Assert.Equal(7 * layers + 1, MatMuls(separate));

        double float32 = AssertSameLogits(fused, separate, $"{architecture} float32");

        var int8 = QuantizationOptions.Parse("int8-b32-asym-acc4");
        QuantizationManifest fusedManifest = ModelQuantizer.QuantizeFolder(fused, fused + "-int8", int8);
        QuantizationManifest separateManifest = ModelQuantizer.QuantizeFolder(separate, separate + "-int8", int8);
        Assert.Equal(4 * layers, fusedManifest.QuantizedMatMuls);
        Assert.Equal(7 * layers, separateManifest.QuantizedMatMuls);
        double quantized = AssertSameLogits(fused + "-int8", separate + "-int8", $"{architecture} int8");
        output.WriteLine($"{architecture}: max |fused - separate| / max |logit|: float32 {float32:E2}, int8 {quantized:E2}");
    }

    private static int MatMuls(string folder)
    {
        (ModelProto model, _) = OnnxModelFile.Load(Path.Combine(folder, ModelFolder.ModelFile));
        return model.Graph.Node.Count(n => n.OpType == "MatMul");
    }

    /// <summary>Asserts both folders' logits agree at every position, greedy choice included; returns the relative difference.</summary>
    private static double AssertSameLogits(string fused, string separate, string label)
    {
        float[] expected = ModelQuantizerTests.Logits(separate, Tokens);
        float[] actual = ModelQuantizerTests.Logits(fused, Tokens);
        Assert.Equal(expected.Length, actual.Length);
        double scale = expected.Max(MathF.Abs);
        double difference = expected.Zip(actual, (e, a) => Math.Abs((double)e - a)).Max() / scale;
        Assert.True(difference <= Tolerance, $"{label}: max |fused - separate| is {difference:E2} of the largest logit");

        int vocab = expected.Length / Tokens.Length;
        for (int p = 0; p < Tokens.Length; p++)
        {
            Assert.Equal(ArgMax(expected.AsSpan(p * vocab, vocab)), ArgMax(actual.AsSpan(p * vocab, vocab)));
        }

        return difference;
    }

    private static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best])
            {
                best = i;
            }
        }

        return best;
    }
}
