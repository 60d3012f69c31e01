using System.Runtime.InteropServices;
using Google.Protobuf;
using Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace LlmAspire.Inference.Models.Quantization;

/// <summary>
/// Converts a float32 graph to float16 compute for the GPU: every float32 initializer (weights, norms, rotary
/// tables, MatMulNBits scales) becomes float16, and so do the float inputs and outputs (the KV cache), except the
/// outputs named to stay float32 (logits), which get a <c>Cast</c> back to float32 at the end. Casts to float32 in
/// the graph become casts to float16, and float32 <c>Constant</c>s become float16.
/// </summary>
public static class Float16Converter
{
    /// <summary>Outputs kept in float32 by default: the logits, so samplers and KL measurements read float32.</summary>
    public static IReadOnlyList<string> DefaultFloat32Outputs { get; } = ["logits"];

    /// <summary>Converts <paramref name="model"/> in place and returns how many initializers changed type.</summary>
    public static int Convert(ModelProto model, IReadOnlyCollection<string>? float32Outputs = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        float32Outputs ??= DefaultFloat32Outputs.ToArray();
        GraphProto graph = model.Graph;
        int converted = 0;
        foreach (TensorProto tensor in graph.Initializer)
        {
            if (ToFloat16(tensor))
            {
                converted++;
            }
        }

        foreach (ValueInfoProto value in graph.Input.Concat(graph.ValueInfo))
        {
            SetFloat16(value);
        }

        foreach (NodeProto node in graph.Node)
        {
            if (node.OpType == "Cast" && node.Domain.Length == 0)
            {
                foreach (AttributeProto to in node.Attribute.Where(a => a.Name == "to" && a.I == (long)DataType.Float))
                {
                    to.I = (long)DataType.Float16;
                }
            }
            else if (node.OpType == "Constant" && node.Domain.Length == 0)
            {
                foreach (AttributeProto attribute in node.Attribute)
                {
                    if (attribute.Name is "value_float" or "value_floats")
                    {
                        throw new NotSupportedException($"Constant {node.Name} uses {attribute.Name}; only tensor constants are converted.");
                    }

                    if (attribute.T is not null)
                    {
                        ToFloat16(attribute.T);
                    }
                }
            }
        }

        var castNodes = new List<NodeProto>();
        foreach (ValueInfoProto output in graph.Output)
        {
            if (output.Type?.TensorType?.ElemType != (int)DataType.Float)
            {
                continue;
            }

            if (!float32Outputs.Contains(output.Name))
            {
                SetFloat16(output);
                continue;
            }

            // The producer now writes float16 under a new name; a Cast restores the float32 output under the old one.
            string half = output.Name + "_float16";
            foreach (NodeProto producer in graph.Node)
            {
                for (int i = 0; i < producer.Output.Count; i++)
                {
                    if (producer.Output[i] == output.Name)
                    {
                        producer.Output[i] = half;
                    }
                }
            }

            var cast = new NodeProto { Name = $"Cast_{output.Name}_float32", OpType = "Cast" };
            cast.Input.Add(half);
            cast.Output.Add(output.Name);
            cast.Attribute.Add(new AttributeProto { Name = "to", Type = AttributeProto.Types.AttributeType.Int, I = (long)DataType.Float });
            castNodes.Add(cast);
        }

        graph.Node.AddRange(castNodes);
        return converted;
    }

    private static void SetFloat16(ValueInfoProto value)
    {
        if (value.Type?.TensorType is { } tensor && tensor.ElemType == (int)DataType.Float)
        {
            tensor.ElemType = (int)DataType.Float16;
        }
    }

    /// <summary>Rewrites a float32 tensor as float16 (round to nearest even); false when it is not float32.</summary>
    private static bool ToFloat16(TensorProto tensor)
    {
        if (tensor.DataType != (int)DataType.Float)
        {
            return false;
        }

        float[] values = MatMulNBitsRewriter.ReadFloats(tensor);
        Half[] half = new Half[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            // Beyond float16's range a weight saturates rather than becoming infinite.
            half[i] = (Half)Math.Clamp(values[i], -65504f, 65504f);
        }

        tensor.FloatData.Clear();
        tensor.RawData = UnsafeByteOperations.UnsafeWrap(MemoryMarshal.AsBytes(half.AsSpan()).ToArray());
        tensor.DataType = (int)DataType.Float16;
        return true;
    }
}
