using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Onnx;

namespace LlmAspire.Inference.Models.Calibration;

/// <summary>
/// Float32 matrix products run by ONNX Runtime's own GEMM (MLAS): calibration multiplies matrices of a few thousand
/// rows and columns (Gram matrices of activations, a layer's output error, GPTQ's deferred updates), which managed
/// loops on a shared CPU would take minutes over. One session per transpose setting, reused for every shape.
/// </summary>
internal sealed class OrtGemm : IDisposable
{
    private readonly InferenceSession _plain;
    private readonly InferenceSession _transposedA;

    public OrtGemm()
    {
        _plain = Create(transposeA: false);
        _transposedA = Create(transposeA: true);
    }

    /// <summary>
    /// A·B ([m, k]·[k, n]), or Aᵀ·B when <paramref name="transposeA"/> (A is then [k, m]); row-major arrays, result [m, n].
    /// </summary>
    public float[] Multiply(float[] a, float[] b, int m, int k, int n, bool transposeA = false)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if ((long)m * k != a.LongLength || (long)k * n != b.LongLength)
        {
            throw new ArgumentException($"A has {a.LongLength} values and B {b.LongLength}; [{m}, {k}]·[{k}, {n}] needs {(long)m * k} and {(long)k * n}.");
        }

        float[] result = new float[(long)m * n];
        if (result.Length == 0 || k == 0)
        {
            return result;
        }

        using OrtValue inputA = OrtValue.CreateTensorValueFromMemory(a, transposeA ? [k, m] : [m, k]);
        using OrtValue inputB = OrtValue.CreateTensorValueFromMemory(b, [k, n]);
        using OrtValue output = OrtValue.CreateTensorValueFromMemory(result, [m, n]);
        using var options = new RunOptions();
        (transposeA ? _transposedA : _plain).Run(options, ["A", "B"], [inputA, inputB], ["Y"], [output]);
        return result;
    }

    public void Dispose()
    {
        _plain.Dispose();
        _transposedA.Dispose();
    }

    private static InferenceSession Create(bool transposeA)
    {
        var graph = new GraphProto { Name = "gemm" };
        graph.Input.Add(Matrix("A", "rows_a", "columns_a"));
        graph.Input.Add(Matrix("B", "rows_b", "columns_b"));
        graph.Output.Add(Matrix("Y", "rows_y", "columns_y"));
        var node = new NodeProto { Name = "gemm", OpType = "Gemm" };
        node.Input.Add("A");
        node.Input.Add("B");
        node.Output.Add("Y");
        node.Attribute.Add(new AttributeProto { Name = "transA", Type = AttributeProto.Types.AttributeType.Int, I = transposeA ? 1 : 0 });
        graph.Node.Add(node);
        var model = new ModelProto { IrVersion = 8, Graph = graph, ProducerName = "llmaspire" };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = string.Empty, Version = 13 });
        using var options = new SessionOptions();
        return new InferenceSession(model.ToByteArray(), options);
    }

    private static ValueInfoProto Matrix(string name, string rows, string columns)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = rows });
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = columns });
        var tensor = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape };
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = tensor } };
    }
}
