using Google.Protobuf;
using LlmAspire.Inference.Engine;
using LlmAspire.Inference.Engine.Kernels;
using LlmAspire.Inference.Models;
using Onnx;

namespace LlmAspire.Tests.Inference;

/// <summary>What the tests of our custom kernels share: a one-node graph as model bytes, random inputs, a decoder to run them in.</summary>
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

    /// <summary>
    /// The tiny demo model widened (dim 512, FFN 1024) so its MatMuls are large enough to be packed and split across
    /// threads, written to <paramref name="folder"/>: its decoder graph, shape and I/O names.
    /// </summary>
    public static (string Graph, LlamaConfig Config, DecoderIoNames Names) WidenedTinyDecoder(string folder)
    {
        DemoPreset preset = DemoPresets.Get(DemoPresets.Tiny.Name);
        preset = preset with { Config = preset.Config with { Dim = 512, Heads = 8, KvHeads = 2, HiddenDim = 1024 } };
        DemoPresets.Write(preset, folder);
        (LlamaConfig config, GenAiConfig genai) = ModelFolder.ReadConfig(folder);
        return (Path.Combine(folder, genai.Model.Decoder.Filename), config, DecoderIoNames.FromConfig(genai.Model.Decoder));
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
