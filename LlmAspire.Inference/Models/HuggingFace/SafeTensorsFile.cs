using System.Buffers.Binary;
using System.Text.Json;

namespace LlmAspire.Inference.Models.HuggingFace;

/// <summary>
/// Reads a <c>.safetensors</c> file: an 8-byte little-endian header length, a JSON header naming each tensor's
/// dtype, shape and byte range, then the data. F32, F16 and BF16 tensors are read as float32.
/// </summary>
public sealed class SafeTensorsFile
{
    private const long MaxHeaderBytes = 100L << 20;
    private readonly string _path;
    private readonly long _dataStart;
    private readonly Dictionary<string, TensorInfo> _tensors;

    private SafeTensorsFile(string path, long dataStart, Dictionary<string, TensorInfo> tensors)
    {
        _path = path;
        _dataStart = dataStart;
        _tensors = tensors;
    }

    /// <summary>The tensors in the file, by name.</summary>
    public IReadOnlyDictionary<string, TensorInfo> Tensors => _tensors;

    /// <summary>Reads the header of <paramref name="path"/>.</summary>
    public static SafeTensorsFile Open(string path)
    {
        using FileStream stream = File.OpenRead(path);
        if (stream.Length < 8)
        {
            throw new InvalidDataException($"'{path}' is not a safetensors file: {stream.Length} bytes, shorter than the 8-byte header length.");
        }

        Span<byte> lengthBytes = stackalloc byte[8];
        stream.ReadExactly(lengthBytes);
        long headerLength = BinaryPrimitives.ReadInt64LittleEndian(lengthBytes);
        if (headerLength <= 0 || headerLength > MaxHeaderBytes)
        {
            throw new InvalidDataException($"'{path}' is not a safetensors file (header length {headerLength}).");
        }

        if (8 + headerLength > stream.Length)
        {
            throw new InvalidDataException($"'{path}' is truncated: its header needs {8 + headerLength} bytes, the file has {stream.Length}.");
        }

        byte[] header = new byte[headerLength];
        stream.ReadExactly(header);
        long dataLength = stream.Length - 8 - headerLength;
        var tensors = new Dictionary<string, TensorInfo>(StringComparer.Ordinal);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(header);
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"'{path}' has a header that is not valid JSON: {ex.Message}", ex);
        }

        using (document)
        {
            ReadHeader(path, document.RootElement, dataLength, tensors);
        }

        return new SafeTensorsFile(path, 8 + headerLength, tensors);
    }

    private static void ReadHeader(string path, JsonElement root, long dataLength, Dictionary<string, TensorInfo> tensors)
    {
        foreach (JsonProperty property in root.EnumerateObject())
        {
            if (property.Name == "__metadata__")
            {
                continue;
            }

            string dtype = property.Value.GetProperty("dtype").GetString() ?? string.Empty;
            long[] shape = [.. property.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64())];
            long[] offsets = [.. property.Value.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64())];
            var info = new TensorInfo(property.Name, dtype, shape, offsets[0], offsets[1]);
            long expected = shape.Aggregate(1L, (a, b) => a * b) * info.ElementSize;
            if (offsets.Length != 2 || offsets[0] < 0 || offsets[1] - offsets[0] != expected)
            {
                throw new InvalidDataException($"'{path}': tensor {property.Name} ({dtype} {string.Join('x', shape)}) has an inconsistent byte range.");
            }

            if (offsets[1] > dataLength)
            {
                throw new InvalidDataException(
                    $"'{path}' is truncated: tensor {property.Name} ends at data byte {offsets[1]}, the file holds {dataLength} bytes of data.");
            }

            tensors.Add(property.Name, info);
        }
    }

    /// <summary>Reads a tensor as float32, row-major.</summary>
    public float[] ReadFloat32(string name)
    {
        if (!_tensors.TryGetValue(name, out TensorInfo? info))
        {
            throw new InvalidDataException($"'{_path}' has no tensor '{name}'.");
        }

        byte[] bytes = new byte[info.End - info.Begin];
        using (FileStream stream = File.OpenRead(_path))
        {
            stream.Position = _dataStart + info.Begin;
            stream.ReadExactly(bytes);
        }

        int count = checked((int)(bytes.Length / info.ElementSize));
        float[] values = new float[count];
        switch (info.DType)
        {
            case "F32":
                for (int i = 0; i < count; i++)
                {
                    values[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(i * 4));
                }

                break;
            case "F16":
                for (int i = 0; i < count; i++)
                {
                    values[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(bytes.AsSpan(i * 2));
                }

                break;
            case "BF16":
                for (int i = 0; i < count; i++)
                {
                    values[i] = BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(i * 2)) << 16);
                }

                break;
            default:
                throw new NotSupportedException($"Tensor '{name}' has dtype {info.DType}; only F32, F16 and BF16 weights can be imported.");
        }

        return values;
    }

    /// <summary>A tensor's place in the file.</summary>
    /// <param name="Name">Tensor name.</param>
    /// <param name="DType">safetensors dtype (F32, F16, BF16, ...).</param>
    /// <param name="Shape">Dimensions.</param>
    /// <param name="Begin">Start offset in the data section.</param>
    /// <param name="End">End offset in the data section.</param>
    public sealed record TensorInfo(string Name, string DType, long[] Shape, long Begin, long End)
    {
        /// <summary>Bytes per element.</summary>
        public int ElementSize => DType switch
        {
            "F64" or "I64" or "U64" => 8,
            "F32" or "I32" or "U32" => 4,
            "F16" or "BF16" or "I16" or "U16" => 2,
            _ => 1,
        };
    }
}
