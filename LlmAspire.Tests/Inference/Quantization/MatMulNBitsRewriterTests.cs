using Google.Protobuf;
using LlmAspire.Inference.Models.Quantization;
using Microsoft.ML.OnnxRuntime;
using Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace LlmAspire.Tests.Inference.Quantization;

/// <summary>ONNX Runtime itself reads our packing: a MatMulNBits node computes A × dequantize(B).</summary>
public sealed class MatMulNBitsRewriterTests
{
    [Theory]
    [InlineData(4, false, 64, 32)]
    [InlineData(4, true, 64, 32)]
    [InlineData(8, false, 64, 32)]
    [InlineData(8, true, 64, 32)]
    [InlineData(4, false, 172, 32)]
    [InlineData(4, true, 172, 32)]
    [InlineData(8, false, 172, 32)]
    [InlineData(8, true, 172, 32)]
    [InlineData(4, false, 80, 32)]
    [InlineData(4, false, 172, 128)]
    [InlineData(8, false, 172, 16)]
    [InlineData(4, true, 20, 64)] // K below the block: one block of 32.
    public void Apply_OrtMatMulNBits_ComputesAWithTheDequantizedWeight(int bits, bool symmetric, int k, int blockSize)
    {
        const int n = 48, rows = 3;
        float[] weight = BlockQuantizerTests.RandomMatrix(k, n, seed: 7 * k + bits);
        float[] a = BlockQuantizerTests.RandomMatrix(rows, k, seed: 11 + k);
        ModelProto model = SingleMatMul(weight, k, n);
        var options = new QuantizationOptions { Bits = bits, BlockSize = blockSize, Symmetric = symmetric, QuantizeLmHead = true, AccuracyLevel = 0 };

        MatMulNBitsResult result = MatMulNBitsRewriter.Apply(model, options);

        Assert.Equal(1, result.Quantized);
        blockSize = MatMulNBitsRewriter.EffectiveBlockSize(blockSize, k);
        NodeProto node = Assert.Single(model.Graph.Node);
        Assert.Equal(("MatMulNBits", "com.microsoft"), (node.OpType, node.Domain));
        Assert.Equal(symmetric ? 3 : 4, node.Input.Count);
        Assert.Equal([k, n, bits, blockSize], new[] { "K", "N", "bits", "block_size" }.Select(name => node.Attribute.Single(x => x.Name == name).I));
        Assert.DoesNotContain(node.Attribute, x => x.Name == "accuracy_level");
        Assert.DoesNotContain(model.Graph.Initializer, t => t.Name == "w");
        int blocks = (k + blockSize - 1) / blockSize;
        Assert.Equal([n, blocks, blockSize * bits / 8], model.Graph.Initializer.Single(t => t.Name == "w_Q" + bits).Dims);
        Assert.Equal([n * blocks], model.Graph.Initializer.Single(t => t.Name == "w_scales").Dims);

        float[] expected = Multiply(a, BlockQuantizer.Quantize(weight, k, n, bits, blockSize, symmetric).Dequantize(), rows, k, n);
        float[] actual = Run(model, a, rows, k, n);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-4f * (1 + Math.Abs(expected[i])), $"[{i}] expected {expected[i]}, ORT gave {actual[i]}");
        }
    }

    [Theory]
    [InlineData(4)]
    [InlineData(8)]
    public void Apply_AccuracyLevel4_StaysCloseToFloat32Compute(int bits)
    {
        // Level 4 quantizes A to int8 per block inside the kernel: about 1/254 of each block's range per element.
        const int k = 172, n = 48, rows = 3;
        float[] weight = BlockQuantizerTests.RandomMatrix(k, n, seed: 5);
        float[] a = BlockQuantizerTests.RandomMatrix(rows, k, seed: 6);
        ModelProto model = SingleMatMul(weight, k, n);
        MatMulNBitsRewriter.Apply(model, new QuantizationOptions { Bits = bits, QuantizeLmHead = true, AccuracyLevel = 4 });
        Assert.Equal(4, model.Graph.Node[0].Attribute.Single(x => x.Name == "accuracy_level").I);

        float[] expected = Multiply(a, BlockQuantizer.Quantize(weight, k, n, bits, 32, symmetric: false).Dequantize(), rows, k, n);
        float[] actual = Run(model, a, rows, k, n);
        double scale = Math.Sqrt(expected.Average(v => (double)v * v));
        double rms = Math.Sqrt(expected.Zip(actual, (e, x) => (double)(e - x) * (e - x)).Average());
        Assert.True(rms < 0.02 * scale, $"relative RMS error {rms / scale}");
    }

    [Theory]
    [InlineData(128, 64, 64)]
    [InlineData(128, 172, 128)]
    [InlineData(32, 20, 32)]
    [InlineData(64, 8, 16)]
    public void EffectiveBlockSize_KShorterThanTheBlock_ShrinksToHoldK(int blockSize, int k, int expected) =>
        Assert.Equal(expected, MatMulNBitsRewriter.EffectiveBlockSize(blockSize, k));

    [Fact]
    public void Apply_LmHeadByDefault_IsKeptInFloat32()
    {
        float[] weight = BlockQuantizerTests.RandomMatrix(64, 16, seed: 1);
        ModelProto model = SingleMatMul(weight, 64, 16);

        MatMulNBitsResult result = MatMulNBitsRewriter.Apply(model, new QuantizationOptions { Bits = 4 });

        Assert.Equal(0, result.Quantized);
        Assert.Contains("lm_head kept", Assert.Single(result.Kept), StringComparison.Ordinal);
        Assert.Equal("MatMul", Assert.Single(model.Graph.Node).OpType);
    }

    /// <summary>Y = A × w with w a [k, n] initializer; Y is the graph output (so the quantizer sees a classifier).</summary>
    internal static ModelProto SingleMatMul(float[] weight, int k, int n)
    {
        var graph = new GraphProto { Name = "single" };
        graph.Input.Add(Value("A", "rows", k));
        graph.Output.Add(Value("Y", "rows", n));
        var w = new TensorProto { Name = "w", DataType = (int)DataType.Float, RawData = ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(weight.AsSpan())) };
        w.Dims.AddRange([k, n]);
        graph.Initializer.Add(w);
        var node = new NodeProto { Name = "matmul", OpType = "MatMul" };
        node.Input.AddRange(["A", "w"]);
        node.Output.Add("Y");
        graph.Node.Add(node);
        var model = new ModelProto { IrVersion = 8, Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = string.Empty, Version = 17 });
        return model;
    }

    internal static float[] Run(ModelProto model, float[] a, int rows, int k, int n)
    {
        using var options = new SessionOptions { LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR };
        using var session = new InferenceSession(model.ToByteArray(), options);
        using OrtValue input = OrtValue.CreateTensorValueFromMemory(a, [rows, k]);
        using var runOptions = new RunOptions();
        using IDisposableReadOnlyCollection<OrtValue> outputs = session.Run(runOptions, ["A"], [input], ["Y"]);
        float[] result = outputs[0].GetTensorDataAsSpan<float>().ToArray();
        Assert.Equal(rows * n, result.Length);
        return result;
    }

    internal static float[] Multiply(float[] a, float[] b, int rows, int k, int n)
    {
        float[] y = new float[rows * n];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < n; c++)
            {
                double sum = 0;
                for (int i = 0; i < k; i++)
                {
                    sum += (double)a[r * k + i] * b[i * n + c];
                }

                y[r * n + c] = (float)sum;
            }
        }

        return y;
    }

    private static ValueInfoProto Value(string name, string rows, int cols)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = rows });
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = cols });
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)DataType.Float, Shape = shape } } };
    }
}
