using System.Text;

namespace LlmAspire.Inference.Models.Gguf;

/// <summary>
/// Writes GGUF files as gguf-py's GGUFWriter lays them out (version 3, little-endian): header, metadata of every value
/// type, the tensor table, padding to the alignment, then each tensor's bytes at an aligned offset. Written
/// independently of <see cref="GgufFile"/> (the tests check one against the other); the tests build malformed files
/// with it, and <c>bench peers</c> writes the GGUF that llama.cpp runs.
/// </summary>
internal sealed class GgufWriter
{
    private readonly List<(string Key, GgufValueType Type, object Value)> _metadata = [];
    private readonly List<(string Name, long[] Dims, GgmlType Type, byte[] Data)> _tensors = [];

    /// <summary>The alignment of the data section and of each tensor; written as general.alignment when not 32.</summary>
    public int Alignment { get; init; } = 32;

    /// <summary>The version written in the header.</summary>
    public uint Version { get; init; } = 3;

    /// <summary>Adds (or replaces, moving it last) a string value.</summary>
    public GgufWriter Add(string key, string value) => Add(key, GgufValueType.String, value);

    /// <summary>Adds (or replaces) a uint32 value.</summary>
    public GgufWriter Add(string key, uint value) => Add(key, GgufValueType.UInt32, value);

    /// <summary>Adds (or replaces) a float32 value.</summary>
    public GgufWriter Add(string key, float value) => Add(key, GgufValueType.Float32, value);

    /// <summary>Adds (or replaces) a bool value.</summary>
    public GgufWriter Add(string key, bool value) => Add(key, GgufValueType.Bool, value);

    /// <summary>Adds a value of any type (<paramref name="value"/> of the matching CLR type; arrays as <see cref="GgufArray"/>).</summary>
    public GgufWriter Add(string key, GgufValueType type, object value)
    {
        _metadata.RemoveAll(m => m.Key == key);
        _metadata.Add((key, type, value));
        return this;
    }

    /// <summary>Drops a metadata key.</summary>
    public GgufWriter Remove(string key)
    {
        _metadata.RemoveAll(m => m.Key == key);
        return this;
    }

    /// <summary>Adds a tensor of raw bytes; <paramref name="dims"/> innermost first.</summary>
    public GgufWriter AddTensor(string name, long[] dims, GgmlType type, byte[] data)
    {
        _tensors.Add((name, dims, type, data));
        return this;
    }

    /// <summary>Whether a tensor of that name has been added.</summary>
    public bool HasTensor(string name) => _tensors.Any(t => t.Name == name);

    /// <summary>Drops a tensor.</summary>
    public GgufWriter RemoveTensor(string name)
    {
        _tensors.RemoveAll(t => t.Name == name);
        return this;
    }

    /// <summary>Writes the file (replacing <paramref name="path"/>).</summary>
    public void Write(string path)
    {
        if (Alignment != 32 && _metadata.All(m => m.Key != "general.alignment"))
        {
            Add("general.alignment", (uint)Alignment);
        }

        using FileStream stream = File.Create(path);
        using var w = new BinaryWriter(stream, Encoding.UTF8);
        w.Write(Encoding.ASCII.GetBytes("GGUF"));
        w.Write(Version);
        w.Write((ulong)_tensors.Count);
        w.Write((ulong)_metadata.Count);
        foreach ((string key, GgufValueType type, object value) in _metadata)
        {
            WriteString(w, key);
            w.Write((uint)type);
            WriteValue(w, type, value);
        }

        long offset = 0;
        var offsets = new List<long>();
        foreach ((string name, long[] dims, GgmlType type, byte[] data) in _tensors)
        {
            WriteString(w, name);
            w.Write((uint)dims.Length);
            foreach (long d in dims)
            {
                w.Write((ulong)d);
            }

            w.Write((uint)type);
            w.Write((ulong)offset);
            offsets.Add(offset);
            offset += Pad(data.Length);
        }

        w.Flush();
        Zeros(w, Pad(stream.Position) - stream.Position);
        long start = stream.Position;
        for (int i = 0; i < _tensors.Count; i++)
        {
            Zeros(w, start + offsets[i] - stream.Position);
            w.Write(_tensors[i].Data);
        }

        Zeros(w, Pad(stream.Position) - stream.Position);
    }

    private long Pad(long n) => (n + Alignment - 1) / Alignment * Alignment;

    private static void Zeros(BinaryWriter w, long n) => w.Write(new byte[n]);

    private static void WriteString(BinaryWriter w, string s)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(s);
        w.Write((ulong)bytes.Length);
        w.Write(bytes);
    }

    private static void WriteValue(BinaryWriter w, GgufValueType type, object value)
    {
        switch (type)
        {
            case GgufValueType.UInt8: w.Write((byte)value); break;
            case GgufValueType.Int8: w.Write((sbyte)value); break;
            case GgufValueType.UInt16: w.Write((ushort)value); break;
            case GgufValueType.Int16: w.Write((short)value); break;
            case GgufValueType.UInt32: w.Write((uint)value); break;
            case GgufValueType.Int32: w.Write((int)value); break;
            case GgufValueType.Float32: w.Write((float)value); break;
            case GgufValueType.Bool: w.Write((bool)value ? (byte)1 : (byte)0); break;
            case GgufValueType.String: WriteString(w, (string)value); break;
            case GgufValueType.UInt64: w.Write((ulong)value); break;
            case GgufValueType.Int64: w.Write((long)value); break;
            case GgufValueType.Float64: w.Write((double)value); break;
            case GgufValueType.Array:
                var array = (GgufArray)value;
                w.Write((uint)array.ElementType);
                w.Write((ulong)array.Values.Length);
                foreach (object element in array.Values)
                {
                    WriteValue(w, array.ElementType, element);
                }

                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(type));
        }
    }
}
