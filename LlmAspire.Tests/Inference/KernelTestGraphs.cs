using Google.Protobuf;
using LlmAspire.Inference.Engine.Kernels;
using LlmAspire.Inference.Models;
using Onnx;

namespace LlmAspire.Tests.Inference;

/// <summary>What the tests of our custom kernels share: a one-node graph as model bytes, and random inputs.</summary>
internal static class KernelTestGraphs
{
    /// <summary>The model bytes of <paramref name="g"/>, importing the ONNX domain and ours (<c>com.microsoft</c>).</summary>
    public static byte[] Serialize(OnnxGraphBuilder g)
    {
        var model = new ModelProto { IrVersion = 8, ProducerName = "LlmAspire.Tests", Graph = g.Graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = string.Empty, Version = 17 });
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = LlmAspireKernels.Domain, Version = 1 });
        return model.ToByteArray();
    }

    /// <summary><paramref name="count"/> values uniform in ±<paramref name="scale"/>.</summary>
    public static float[] Values(Random random, int count, float scale)
    {
        float[] values = new float[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = (float)((random.NextDouble() * 2) - 1) * scale;
        }

        return values;
    }
}
