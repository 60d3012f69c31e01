using System.Buffers.Binary;
using System.Text;
using System.Text.Json;

namespace LlmAspire.Tests.Inference.HuggingFace;

/// <summary>Writes .safetensors files for tests: F32, F16 or BF16 (round to nearest even).</summary>
internal static class SafeTensorsWriter
{
    public static void Write(string path, IReadOnlyList<(string Name, long[] Shape, float[] Values)> tensors, string dtype)
    {
        int size = dtype == "F32" ? 4 : 2;
        var header = new Dictionary<string, object> { ["__metadata__"] = new Dictionary<string, string> { ["format"] = "pt" } };
        long offset = 0;
        foreach ((string name, long[] shape, float[] values) in tensors)
        {
            long end = offset + (long)values.Length * size;
            header[name] = new Dictionary<string, object> { ["dtype"] = dtype, ["shape"] = shape, ["data_offsets"] = new[] { offset, end } };
            offset = end;
        }

        byte[] json = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(header));
        using FileStream stream = File.Create(path);
        Span<byte> eight = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(eight, json.Length);
        stream.Write(eight);
        stream.Write(json);
        foreach ((_, _, float[] values) in tensors)
        {
            byte[] data = new byte[values.Length * size];
            for (int i = 0; i < values.Length; i++)
            {
                switch (dtype)
                {
                    case "F32":
                        BinaryPrimitives.WriteSingleLittleEndian(data.AsSpan(i * 4), values[i]);
                        break;
                    case "F16":
                        BinaryPrimitives.WriteHalfLittleEndian(data.AsSpan(i * 2), (Half)values[i]);
                        break;
                    default:
                        BinaryPrimitives.WriteUInt16LittleEndian(data.AsSpan(i * 2), ToBFloat16(values[i]));
                        break;
                }
            }

            stream.Write(data);
        }
    }

    /// <summary>The value a tensor holds after a round trip through <paramref name="dtype"/>.</summary>
    /// <summary>The weights as Hugging Face lays them out: <c>model.safetensors</c>, or two shards and their index.</summary>
    public static void WriteCheckpoint(string directory, List<(string Name, long[] Shape, float[] Values)> tensors, string dtype, bool sharded)
    {
        if (!sharded)
        {
            Write(Path.Combine(directory, "model.safetensors"), tensors, dtype);
            return;
        }

        int half = tensors.Count / 2;
        var weightMap = new Dictionary<string, string>();
        foreach ((string file, var part) in new[] { ("model-00001-of-00002.safetensors", tensors[..half]), ("model-00002-of-00002.safetensors", tensors[half..]) })
        {
            Write(Path.Combine(directory, file), part, dtype);
            foreach (var tensor in part)
            {
                weightMap[tensor.Name] = file;
            }
        }

        File.WriteAllText(Path.Combine(directory, "model.safetensors.index.json"), JsonSerializer.Serialize(new { metadata = new { total_size = 0 }, weight_map = weightMap }));
    }

    public static float RoundTrip(float value, string dtype) => dtype switch
    {
        "F32" => value,
        "F16" => (float)(Half)value,
        _ => BitConverter.Int32BitsToSingle(ToBFloat16(value) << 16),
    };

    private static ushort ToBFloat16(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        uint rounding = 0x7FFF + ((bits >> 16) & 1);
        return (ushort)((bits + rounding) >> 16);
    }
}
