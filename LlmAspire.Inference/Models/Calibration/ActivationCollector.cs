using Google.Protobuf;
using LlmAspire.Inference.Engine;
using LlmAspire.Inference.Tokenization;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Onnx;

namespace LlmAspire.Inference.Models.Calibration;

/// <summary>
/// Runs a decoder graph over calibration text and records the values that reach chosen tensors (the inputs of the
/// linear layers to compress). Generic over every folder we load, our builder's (fused or separate projections) and
/// imported ones: the tensors become extra graph outputs, which ONNX allows for any intermediate value, and each
/// window is one prefill from an empty KV cache.
/// </summary>
public static class ActivationCollector
{
    /// <summary>
    /// Statistics of each of <paramref name="tensors"/> over <paramref name="documents"/> tokenized with the tokenizer
    /// of <paramref name="folder"/>, whose decoder <paramref name="model"/> is (loaded whole, not modified).
    /// </summary>
    public static IReadOnlyDictionary<string, ActivationStatistics> Collect(
        ModelProto model, string folder, IReadOnlyCollection<string> tensors, IReadOnlyList<string> documents, int maxTokens = CalibrationWindows.DefaultMaxTokens)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(tensors);
        (LlamaConfig config, GenAiConfig genai) = ModelFolder.ReadConfig(folder);
        ITokenizer tokenizer = ModelFolder.ReadTokenizer(folder, genai);
        IReadOnlyList<int[]> windows = CalibrationWindows.Create(tokenizer, documents, config.ContextLength, maxTokens);
        return Collect(model, config, DecoderIoNames.FromConfig(genai.Model.Decoder), tensors, windows);
    }

    internal static IReadOnlyDictionary<string, ActivationStatistics> Collect(
        ModelProto model, LlamaConfig config, DecoderIoNames names, IReadOnlyCollection<string> tensors, IReadOnlyList<int[]> windows)
    {
        string[] wanted = [.. tensors.Distinct(StringComparer.Ordinal)];
        using var options = new SessionOptions();
        using var session = new InferenceSession(WithOutputs(model, wanted), options);
        var rows = wanted.ToDictionary(t => t, _ => new List<float[]>(), StringComparer.Ordinal);
        var channels = new Dictionary<string, int>(StringComparer.Ordinal);
        bool positions = session.InputMetadata.ContainsKey(names.PositionIds);
        NodeMetadata past = session.InputMetadata[names.PastKeyOf(0)];
        int kvHeads = past.Dimensions[1] > 0 ? past.Dimensions[1] : config.KvHeads;
        int headSize = past.Dimensions[3] > 0 ? past.Dimensions[3] : config.AttentionHeadSize;
        using var run = new RunOptions();
        foreach (int[] window in windows)
        {
            int s = window.Length;
            var inputNames = new List<string> { names.InputIds, names.AttentionMask };
            var inputs = new List<OrtValue>
            {
                OrtValue.CreateTensorValueFromMemory(Array.ConvertAll(window, id => (long)id), [1, s]),
                OrtValue.CreateTensorValueFromMemory(Enumerable.Repeat(1L, s).ToArray(), [1, s]),
            };
            if (positions)
            {
                inputNames.Add(names.PositionIds);
                inputs.Add(OrtValue.CreateTensorValueFromMemory(Enumerable.Range(0, s).Select(i => (long)i).ToArray(), [1, s]));
            }

            for (int l = 0; l < config.Layers; l++)
            {
                foreach (string name in (string[])[names.PastKeyOf(l), names.PastValueOf(l)])
                {
                    inputNames.Add(name);
                    inputs.Add(OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, session.InputMetadata[name].ElementDataType, [1, kvHeads, 0, headSize]));
                }
            }

            try
            {
                using IDisposableReadOnlyCollection<OrtValue> results = session.Run(run, inputNames, inputs, wanted);
                for (int i = 0; i < wanted.Length; i++)
                {
                    OrtValue value = results[i];
                    OrtTensorTypeAndShapeInfo info = value.GetTensorTypeAndShape();
                    int k = checked((int)info.Shape[^1]);
                    if (channels.TryGetValue(wanted[i], out int known) && known != k)
                    {
                        throw new InvalidDataException($"{wanted[i]} has {k} channels in one window and {known} in another.");
                    }

                    channels[wanted[i]] = k;
                    rows[wanted[i]].Add(info.ElementDataType switch
                    {
                        TensorElementType.Float => value.GetTensorDataAsSpan<float>().ToArray(),
                        TensorElementType.Float16 => [.. value.GetTensorDataAsSpan<Float16>().ToArray().Select(h => (float)h)],
                        var other => throw new NotSupportedException($"{wanted[i]} is {other}; calibration reads float32 or float16 activations."),
                    });
                }
            }
            finally
            {
                foreach (OrtValue input in inputs)
                {
                    input.Dispose();
                }
            }
        }

        return wanted.ToDictionary(t => t, t => new ActivationStatistics(t, channels[t], Concatenate(rows[t])), StringComparer.Ordinal);
    }

    /// <summary>The serialized graph with <paramref name="tensors"/> added to its outputs (by name only: ORT infers their types).</summary>
    private static byte[] WithOutputs(ModelProto model, string[] tensors)
    {
        ModelProto probe = model.Clone();
        var outputs = probe.Graph.Output.Select(o => o.Name).ToHashSet(StringComparer.Ordinal);
        foreach (string tensor in tensors.Where(t => !outputs.Contains(t)))
        {
            probe.Graph.Output.Add(new ValueInfoProto { Name = tensor });
        }

        return probe.ToByteArray();
    }

    private static float[] Concatenate(List<float[]> parts)
    {
        float[] all = new float[parts.Sum(p => (long)p.Length)];
        long offset = 0;
        foreach (float[] part in parts)
        {
            Array.Copy(part, 0, all, offset, part.Length);
            offset += part.Length;
        }

        return all;
    }
}
