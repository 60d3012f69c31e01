using LlmAspire.Inference;
using LlmAspire.Inference.Engine;
using LlmAspire.Inference.Models;
using LlmAspire.Inference.Models.Quantization;
using Microsoft.ML.OnnxRuntime.Tensors;
using Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace LlmAspire.Tests.Inference.Quantization;

/// <summary>
/// The float16 conversion is meant for the CUDA provider. Here only the CPU provider runs it (ONNX Runtime inserts
/// casts around the CPU kernels that lack float16), which checks the graph's types and numbers, not GPU speed.
/// </summary>
public sealed class Float16ConverterTests
{
    [Fact]
    public void QuantizeFolder_Float16_LeavesNoFloat32WeightAndAHalfKvCache()
    {
        using var temp = TestPaths.CreateTempDirectory();
        string source = Path.Combine(temp.Path, "fp32");
        DemoPresets.Write(DemoPresets.Tiny, source);
        string output = Path.Combine(temp.Path, "fp16");

        QuantizationManifest manifest = ModelQuantizer.QuantizeFolder(source, output, new QuantizationOptions { Float16 = true });

        Assert.Equal(("float16", "float16", null, 0), (manifest.Format, manifest.DType, manifest.Bits, manifest.QuantizedMatMuls));
        (ModelProto model, _) = OnnxModelFile.Load(Path.Combine(output, ModelFolder.ModelFile));
        GraphProto graph = model.Graph;
        Assert.DoesNotContain(graph.Initializer, t => t.DataType == (int)DataType.Float);
        Assert.All(graph.Initializer.Where(t => t.Name.EndsWith("weight_t", StringComparison.Ordinal) || t.Name.Contains("cache", StringComparison.Ordinal)), t => Assert.Equal((int)DataType.Float16, t.DataType));
        Assert.All(graph.Input.Where(i => i.Name.StartsWith("past_key_values", StringComparison.Ordinal)), i => Assert.Equal((int)DataType.Float16, i.Type.TensorType.ElemType));
        Assert.All(graph.Output.Where(o => o.Name.StartsWith("present", StringComparison.Ordinal)), o => Assert.Equal((int)DataType.Float16, o.Type.TensorType.ElemType));
        Assert.Equal((int)DataType.Float, graph.Output.Single(o => o.Name == "logits").Type.TensorType.ElemType);
        NodeProto cast = graph.Node.Single(n => n.Output.Contains("logits"));
        Assert.Equal(("Cast", "logits_float16", (long)DataType.Float), (cast.OpType, cast.Input[0], cast.Attribute.Single(a => a.Name == "to").I));
        Assert.Contains(graph.Node, n => n.Output.Contains("logits_float16") && n.OpType == "MatMul");

        // Half the bytes of float32, give or take the int64 constants.
        Assert.InRange(manifest.Bytes, manifest.SourceBytes * 0.45, manifest.SourceBytes * 0.55);
    }

    [Fact]
    public void QuantizeFolder_Float16_RunsOnTheCpuWithHalfKvCacheAndLogitsCloseToFloat32()
    {
        using var temp = TestPaths.CreateTempDirectory();
        string source = Path.Combine(temp.Path, "fp32");
        DemoPresets.Write(DemoPresets.Tiny, source);
        string output = Path.Combine(temp.Path, "fp16");
        ModelQuantizer.QuantizeFolder(source, output, new QuantizationOptions { Float16 = true });
        int[] tokens = [1, 40, 41, 42, 300, 301, 302, 100];

        using (LanguageModel half = LanguageModel.Load(output, ExecutionProviderPreference.Cpu))
        {
            Assert.Equal(TensorElementType.Float16, half.Decoder.KvElementType);
        }

        // float16 keeps 11 significant bits (relative rounding 2^-11 ≈ 0.05 %) in every weight and activation: the
        // logits stay within a few tenths of a percent, far below int8's error.
        double error = ModelQuantizerTests.RelativeRms(ModelQuantizerTests.Logits(source, tokens), ModelQuantizerTests.Logits(output, tokens));
        Assert.True(error < 0.005, $"relative RMS error {error:F5}");
    }

    [Fact]
    public void QuantizeFolder_Int4WithFloat16_HasHalfScalesAndRuns()
    {
        using var temp = TestPaths.CreateTempDirectory();
        string source = Path.Combine(temp.Path, "fp32");
        DemoPresets.Write(DemoPresets.Tiny, source);
        string output = Path.Combine(temp.Path, "int4-fp16");

        QuantizationManifest manifest = ModelQuantizer.QuantizeFolder(source, output, new QuantizationOptions { Bits = 4, Float16 = true, AccuracyLevel = 0 });

        Assert.Equal(("MatMulNBits", "float16", 8), (manifest.Format, manifest.DType, manifest.QuantizedMatMuls));
        (ModelProto model, _) = OnnxModelFile.Load(Path.Combine(output, ModelFolder.ModelFile));
        Assert.All(model.Graph.Initializer.Where(t => t.Name.EndsWith("_scales", StringComparison.Ordinal)), t => Assert.Equal((int)DataType.Float16, t.DataType));
        Assert.All(model.Graph.Initializer.Where(t => t.Name.EndsWith("_Q4", StringComparison.Ordinal) || t.Name.EndsWith("_zero_points", StringComparison.Ordinal)), t => Assert.Equal((int)DataType.Uint8, t.DataType));
        int[] tokens = [1, 40, 41, 42, 300, 301, 302, 100];
        double error = ModelQuantizerTests.RelativeRms(ModelQuantizerTests.Logits(source, tokens), ModelQuantizerTests.Logits(output, tokens));
        Assert.True(error < 0.40, $"relative RMS error {error:F4}");
    }
}
