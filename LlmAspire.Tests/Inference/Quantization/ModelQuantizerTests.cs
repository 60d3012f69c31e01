using LlmAspire.Inference;
using LlmAspire.Inference.Engine;
using LlmAspire.Inference.Models;
using LlmAspire.Inference.Models.Quantization;
using Onnx;

namespace LlmAspire.Tests.Inference.Quantization;

public sealed class ModelQuantizerTests
{
    /// <summary>A fixed token sequence over the demo vocabulary (ids 3..379), read with teacher forcing.</summary>
    private static readonly int[] Tokens = [1, .. Enumerable.Range(0, 31).Select(i => 3 + (i * 97 % 377))];

    /// <summary>
    /// Relative RMS error of all logits, quantized vs float32, on the tiny random-weight demo model (ORT, CPU).
    /// The bounds follow from the step sizes: a block of 32 Gaussian weights spans about ±2.1σ, so one step is
    /// ~4.2σ/255 at int8 and ~4.2σ/15 at int4, and rounding adds noise of step/√12 per weight: ~0.5 % and ~8 % of
    /// each weight's scale. Every output sums many weights, so a projection's relative error is about the same, and
    /// seven projections in a row (two layers) add up to roughly √7 times that before the norms: ~1.3 % and ~21 %.
    /// int8 activations (accuracy_level 4) add ~0.5 % per projection. Measured: 1.1 to 1.6 % at int8, 15 to 17 %
    /// at int4; the bounds leave about 2× headroom.
    /// </summary>
    [Theory]
    [InlineData(8, false, 0, 0.03)]
    [InlineData(8, true, 4, 0.05)]
    [InlineData(8, false, 4, 0.05)]
    [InlineData(4, false, 0, 0.40)]
    [InlineData(4, true, 4, 0.40)]
    public void QuantizeFolder_RandomModel_LogitsCloseToFloat32(int bits, bool symmetric, int accuracyLevel, double bound)
    {
        using var temp = TestPaths.CreateTempDirectory();
        string source = Path.Combine(temp.Path, "fp32");
        DemoPresets.Write(DemoPresets.Tiny, source);
        string quantized = Path.Combine(temp.Path, "q");
        ModelQuantizer.QuantizeFolder(source, quantized, new QuantizationOptions { Bits = bits, Symmetric = symmetric, AccuracyLevel = accuracyLevel });

        float[] reference = Logits(source, Tokens);
        float[] actual = Logits(quantized, Tokens);

        double error = RelativeRms(reference, actual);
        Assert.True(error < bound, $"relative RMS error {error:F4} (bound {bound})");
        Assert.True(error > 0, "the quantized model computes exactly float32's logits: nothing was quantized?");
    }

    [Fact]
    public async Task QuantizeFolder_Output_LoadsInTheEngineAndCopiesEveryOtherFile()
    {
        using var temp = TestPaths.CreateTempDirectory();
        string source = Path.Combine(temp.Path, "fp32");
        DemoPresets.Write(DemoPresets.Tiny, source);
        Directory.CreateDirectory(Path.Combine(source, "extra"));
        File.WriteAllText(Path.Combine(source, "extra", "notes.txt"), "kept as is");
        string output = Path.Combine(temp.Path, "int4");

        QuantizationManifest manifest = ModelQuantizer.QuantizeFolder(source, output, new QuantizationOptions { Bits = 4 });

        foreach (string file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories).Where(f => !f.EndsWith(".onnx", StringComparison.Ordinal)))
        {
            Assert.Equal(File.ReadAllBytes(file), File.ReadAllBytes(Path.Combine(output, Path.GetRelativePath(source, file))));
        }

        QuantizationManifest written = ModelQuantizer.ReadManifest(output)!;
        Assert.Equal(("MatMulNBits", 4, 32, false, 4, false, "float32"), (written.Format, written.Bits, written.BlockSize, written.Symmetric, written.AccuracyLevel, written.LmHead, written.DType));
        Assert.Equal(Path.GetFullPath(source), written.Source);

        // 2 layers × 4 weight MatMuls (the fused qkv, o, the fused gate/up, down); the classifier stays float32 by default.
        Assert.Equal(8, written.QuantizedMatMuls);
        Assert.Equal(manifest.Bytes, new FileInfo(Path.Combine(output, ModelFolder.ModelFile)).Length);
        // The tiny model is mostly embedding, classifier and rotary tables, which stay float32.
        Assert.True(manifest.Bytes < manifest.SourceBytes * 0.6, $"{manifest.Bytes} of {manifest.SourceBytes} bytes");

        (ModelProto model, _) = OnnxModelFile.Load(Path.Combine(output, ModelFolder.ModelFile));
        Assert.Equal(8, model.Graph.Node.Count(n => n.OpType == "MatMulNBits"));
        Assert.Equal("lm_head.weight_t", Assert.Single(model.Graph.Node, n => n.OpType == "MatMul").Input[1]);

        using LanguageModel lm = LanguageModel.Load(output, ExecutionProviderPreference.Cpu);
        Assert.Equal("int4", lm.Id);
        int generated = 0;
        await foreach (GenerationUpdate update in lm.GenerateAsync(new GenerationRequest([1, 80, 81], MaxTokens: 8, Temperature: 0)).WithCancellation(CancellationToken.None))
        {
            generated = update.CompletionTokens;
        }

        Assert.InRange(generated, 1, 8);
    }

    [Fact]
    public void QuantizeFolder_SourceWithExternalData_ReadsItAndWritesOneFile()
    {
        using var temp = TestPaths.CreateTempDirectory();
        string source = Path.Combine(temp.Path, "fp32");
        DemoPresets.Write(DemoPresets.Tiny, source);
        string modelPath = Path.Combine(source, ModelFolder.ModelFile);
        (ModelProto model, _) = OnnxModelFile.Load(modelPath);
        ModelFolder.WriteOnnx(model, modelPath, externalDataThreshold: 0);
        Assert.True(File.Exists(modelPath + ".data"));
        float[] reference = Logits(source, Tokens);

        string output = Path.Combine(temp.Path, "q");
        QuantizationManifest manifest = ModelQuantizer.QuantizeFolder(source, output, new QuantizationOptions { Bits = 8, AccuracyLevel = 0 });

        Assert.False(File.Exists(Path.Combine(output, ModelFolder.ModelFile + ".data")));
        Assert.Equal(new FileInfo(modelPath).Length + new FileInfo(modelPath + ".data").Length, manifest.SourceBytes);
        Assert.True(RelativeRms(reference, Logits(output, Tokens)) < 0.03);
    }

    [Fact]
    public void QuantizeFolder_LmHeadAsked_QuantizesTheClassifierToo()
    {
        using var temp = TestPaths.CreateTempDirectory();
        string source = Path.Combine(temp.Path, "fp32");
        DemoPresets.Write(DemoPresets.Tiny, source);

        QuantizationManifest manifest = ModelQuantizer.QuantizeFolder(source, Path.Combine(temp.Path, "q"), new QuantizationOptions { Bits = 8, QuantizeLmHead = true });

        Assert.Equal(9, manifest.QuantizedMatMuls);
        Assert.True(manifest.LmHead);
        Assert.Empty(manifest.KeptMatMuls);
    }

    [Fact]
    public void QuantizeFolder_OutputNotEmpty_ThrowsUnlessOverwriting()
    {
        using var temp = TestPaths.CreateTempDirectory();
        string source = Path.Combine(temp.Path, "fp32");
        DemoPresets.Write(DemoPresets.Tiny, source);
        string output = Path.Combine(temp.Path, "q");
        Directory.CreateDirectory(output);
        File.WriteAllText(Path.Combine(output, "old.txt"), "old");
        var options = new QuantizationOptions { Bits = 8 };

        Assert.Throws<IOException>(() => ModelQuantizer.QuantizeFolder(source, output, options));
        ModelQuantizer.QuantizeFolder(source, output, options, overwrite: true);

        Assert.False(File.Exists(Path.Combine(output, "old.txt")));
        Assert.Throws<InvalidDataException>(() => ModelQuantizer.QuantizeFolder(output, Path.Combine(temp.Path, "again"), options));
        Assert.Empty(Directory.EnumerateDirectories(temp.Path, "q.partial-*"));
    }

    [Theory]
    [InlineData("int4-b32-asym-acc4")]
    [InlineData("int8-b128-sym-acc0-head")]
    [InlineData("int4-b64-sym-acc4-fp16")]
    [InlineData("fp16")]
    public void Options_Describe_ParsesBack(string name) => Assert.Equal(name, QuantizationOptions.Parse(name).Describe());

    [Fact]
    public void Metrics_KlDivergence_IsZeroForEqualAndPositiveOtherwise()
    {
        float[] p = [1f, 2f, 3f], q = [1f, 2f, 2.5f];
        Assert.Equal(0, QuantizationMetrics.KlDivergence(p, [2f, 3f, 4f]), 12);
        double expected = Enumerable.Range(0, 3).Sum(i => Softmax(p)[i] * Math.Log(Softmax(p)[i] / Softmax(q)[i]));
        Assert.Equal(expected, QuantizationMetrics.KlDivergence(p, q), 9);
        Assert.Equal(2, QuantizationMetrics.CommonPrefix([1, 2, 3], [1, 2, 4, 5]));
    }

    internal static float[] Logits(string folder, int[] tokens)
    {
        using LanguageModel model = LanguageModel.Load(folder, ExecutionProviderPreference.Cpu);
        using DecoderState state = model.Decoder.CreateState();
        return model.Decoder.Forward(state, tokens, allPositions: true);
    }

    internal static double RelativeRms(float[] reference, float[] actual)
    {
        Assert.Equal(reference.Length, actual.Length);
        double signal = Math.Sqrt(reference.Average(v => (double)v * v));
        double noise = Math.Sqrt(reference.Zip(actual, (r, a) => (double)(r - a) * (r - a)).Average());
        return noise / signal;
    }

    private static double[] Softmax(float[] logits)
    {
        double[] e = [.. logits.Select(v => Math.Exp(v))];
        return [.. e.Select(v => v / e.Sum())];
    }
}
