using System.Buffers;
using System.Globalization;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace LlmAspire.Inference.Models.Gguf;

/// <summary>
/// A GGUF file (versions 2 and 3, little-endian), as gguf.cpp and gguf-py lay it out: the magic <c>GGUF</c>, the
/// version, the tensor and metadata counts (64-bit), the metadata key/value pairs (every value type, arrays of arrays
/// included), the tensor table (name, dimensions innermost first, ggml type, offset), padding to
/// <c>general.alignment</c> (32 by default), then the tensor data. Opening reads the header and tables only and checks
/// that every tensor lies inside the file, so a truncated download fails here, before anything is converted; tensors
/// are read later, one at a time, in chunks straight from the file (never the whole file in memory).
/// </summary>
public sealed class GgufFile : IDisposable
{
    /// <summary>"GGUF" read as a little-endian 32-bit number.</summary>
    public const uint Magic = 0x46554747;

    /// <summary>The alignment of the data section and of each tensor when <c>general.alignment</c> is absent.</summary>
    public const int DefaultAlignment = 32;

    private const int ChunkBytes = 8 << 20;

    private readonly SafeFileHandle _handle;
    private readonly Dictionary<string, GgufTensorInfo> _tensorsByName;

    private GgufFile(string path, SafeFileHandle handle, uint version, Dictionary<string, object> metadata, List<GgufTensorInfo> tensors, int alignment, long dataOffset, long length)
    {
        Path = path;
        _handle = handle;
        Version = version;
        Metadata = metadata;
        Tensors = tensors;
        Alignment = alignment;
        DataOffset = dataOffset;
        FileLength = length;
        _tensorsByName = new Dictionary<string, GgufTensorInfo>(StringComparer.Ordinal);
        foreach (GgufTensorInfo tensor in tensors)
        {
            if (!_tensorsByName.TryAdd(tensor.Name, tensor))
            {
                throw new InvalidDataException($"'{path}' lists tensor '{tensor.Name}' twice.");
            }
        }
    }

    /// <summary>The file's path.</summary>
    public string Path { get; }

    /// <summary>The GGUF version (2 or 3).</summary>
    public uint Version { get; }

    /// <summary>
    /// The metadata: key → value as a CLR value (<c>byte</c>, <c>sbyte</c>, <c>ushort</c>, <c>short</c>, <c>uint</c>,
    /// <c>int</c>, <c>float</c>, <c>bool</c>, <c>string</c>, <c>ulong</c>, <c>long</c>, <c>double</c>) or a <see cref="GgufArray"/>.
    /// </summary>
    public IReadOnlyDictionary<string, object> Metadata { get; }

    /// <summary>The tensor table in file order.</summary>
    public IReadOnlyList<GgufTensorInfo> Tensors { get; }

    /// <summary><c>general.alignment</c>, or <see cref="DefaultAlignment"/>.</summary>
    public int Alignment { get; }

    /// <summary>Where the data section starts.</summary>
    public long DataOffset { get; }

    /// <summary>The file's size in bytes.</summary>
    public long FileLength { get; }

    /// <summary>
    /// Opens <paramref name="path"/> and reads its header, metadata and tensor table. A file that is not GGUF, of another
    /// version, malformed, or shorter than its tensor table says is an <see cref="InvalidDataException"/> naming the file.
    /// </summary>
    public static GgufFile Open(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        string full = System.IO.Path.GetFullPath(path);
        if (!File.Exists(full))
        {
            throw new FileNotFoundException($"GGUF file '{path}' does not exist.", full);
        }

        SafeFileHandle handle = File.OpenHandle(full, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.RandomAccess);
        try
        {
            return Read(full, handle);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    private static GgufFile Read(string path, SafeFileHandle handle)
    {
        long length = RandomAccess.GetLength(handle);
        // The header is read through its own stream: disposing a stream made from the handle would close the handle.
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
        var reader = new Reader(stream, length, path);
        if (length < 24)
        {
            throw new InvalidDataException($"'{path}' is not a GGUF file: it has {length} bytes, fewer than a GGUF header.");
        }

        uint magic = reader.UInt32();
        if (magic != Magic)
        {
            throw new InvalidDataException($"'{path}' is not a GGUF file: it starts with 0x{magic:X8}, not 'GGUF'.");
        }

        uint version = reader.UInt32();
        if (version is not (2 or 3))
        {
            throw new InvalidDataException(version switch
            {
                1 => $"'{path}' is GGUF version 1, which is not supported (2 and 3 are); convert the model again with a current llama.cpp.",
                _ when (version & 0xFFFF) == 0 => $"'{path}' is a big-endian GGUF file, which is not supported; use the little-endian file.",
                _ => $"'{path}' is GGUF version {version}, which is not supported (2 and 3 are).",
            });
        }

        long tensorCount = reader.Count("tensor count", minBytesEach: 24);
        long kvCount = reader.Count("metadata count", minBytesEach: 12);
        var metadata = new Dictionary<string, object>(StringComparer.Ordinal);
        for (long i = 0; i < kvCount; i++)
        {
            string key = reader.String();
            var type = (GgufValueType)reader.UInt32();
            if (!metadata.TryAdd(key, reader.Value(type, key)))
            {
                throw new InvalidDataException($"'{path}' has metadata key '{key}' twice.");
            }
        }

        int alignment = DefaultAlignment;
        if (metadata.TryGetValue("general.alignment", out object? a))
        {
            alignment = a is uint u && u > 0 && u <= 1 << 20 && (u & (u - 1)) == 0
                ? (int)u
                : throw new InvalidDataException($"'{path}' has general.alignment {a}; it must be a power of two (a uint32).");
        }

        var tensors = new List<GgufTensorInfo>((int)tensorCount);
        for (long i = 0; i < tensorCount; i++)
        {
            string name = reader.String();
            uint dims = reader.UInt32();
            if (dims is 0 or > 4)
            {
                throw new InvalidDataException($"'{path}': tensor '{name}' has {dims} dimensions; GGUF allows 1 to 4.");
            }

            long[] shape = new long[dims];
            for (int d = 0; d < dims; d++)
            {
                ulong n = reader.UInt64();
                shape[d] = n is > 0 and <= long.MaxValue / 4 ? (long)n : throw new InvalidDataException($"'{path}': tensor '{name}' has dimension {d} of {n}.");
            }

            var type = (GgmlType)reader.UInt32();
            ulong offset = reader.UInt64();
            if (offset > long.MaxValue / 2 || (long)offset % alignment != 0)
            {
                throw new InvalidDataException($"'{path}': tensor '{name}' has offset {offset}, not a multiple of the alignment {alignment}.");
            }

            tensors.Add(new GgufTensorInfo(name, shape, type, (long)offset));
        }

        long dataOffset = (stream.Position + alignment - 1) / alignment * alignment;
        foreach (GgufTensorInfo tensor in tensors)
        {
            long end = dataOffset + tensor.Offset + (tensor.ByteSize ?? 0);
            if (end > length)
            {
                throw new InvalidDataException(
                    $"'{path}' is truncated: tensor '{tensor.Name}' ({GgmlTypes.NameOf(tensor.Type)} {tensor.Shape}) ends at byte {end:N0}, "
                    + $"the file has {length:N0}; download or convert it again.");
            }
        }

        return new GgufFile(path, handle, version, metadata, tensors, alignment, dataOffset, length);
    }

    /// <summary>The tensor named <paramref name="name"/>, or null.</summary>
    public GgufTensorInfo? FindTensor(string name) => _tensorsByName.GetValueOrDefault(name);

    /// <summary>
    /// Reads and dequantizes <paramref name="tensor"/> to float32, in file order (ne[0] fastest). A type this reader cannot
    /// dequantize is a <see cref="NotSupportedException"/> naming the tensor.
    /// </summary>
    public float[] ReadFloat32(GgufTensorInfo tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (!GgmlTypes.Dequantizable.Contains(tensor.Type) || GgmlTypes.BlockOf(tensor.Type) is not var (blockValues, blockBytes))
        {
            throw new NotSupportedException(
                $"Tensor '{tensor.Name}' is {GgmlTypes.NameOf(tensor.Type)}, which is not supported; {string.Join(", ", GgmlTypes.Dequantizable.Select(GgmlTypes.NameOf))} are.");
        }

        if (tensor.Dimensions[0] % blockValues != 0)
        {
            throw new InvalidDataException($"Tensor '{tensor.Name}' has rows of {tensor.Dimensions[0]} values, not a multiple of {GgmlTypes.NameOf(tensor.Type)}'s block of {blockValues}.");
        }

        long count = tensor.ElementCount;
        if (count > Array.MaxLength)
        {
            throw new NotSupportedException($"Tensor '{tensor.Name}' has {count:N0} values, more than one array holds.");
        }

        float[] result = new float[count];
        long blocks = count / blockValues;
        int chunkBlocks = Math.Max(1, ChunkBytes / blockBytes);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(chunkBlocks * blockBytes);
        try
        {
            long position = DataOffset + tensor.Offset;
            for (long block = 0; block < blocks; block += chunkBlocks)
            {
                int n = (int)Math.Min(chunkBlocks, blocks - block);
                Span<byte> bytes = buffer.AsSpan(0, n * blockBytes);
                int read = 0;
                while (read < bytes.Length)
                {
                    int got = RandomAccess.Read(_handle, bytes[read..], position + read);
                    read += got > 0 ? got : throw new InvalidDataException($"'{Path}' ended while reading tensor '{tensor.Name}'; the file is truncated.");
                }

                GgmlTypes.Dequantize(tensor.Type, bytes, result.AsSpan((int)(block * blockValues), n * blockValues));
                position += bytes.Length;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return result;
    }

    /// <summary>The string at <paramref name="key"/>, or null when absent; another type is an error naming the key.</summary>
    public string? GetString(string key) => Get(key) switch
    {
        null => null,
        string s => s,
        var other => throw WrongType(key, other, "a string"),
    };

    /// <summary>The integer at <paramref name="key"/> (any integer type), or null when absent.</summary>
    public long? GetInteger(string key) => Get(key) switch
    {
        null => null,
        byte or sbyte or ushort or short or uint or int or long => Convert.ToInt64(Get(key), CultureInfo.InvariantCulture),
        ulong u when u <= long.MaxValue => (long)u,
        var other => throw WrongType(key, other, "an integer"),
    };

    /// <summary>The number at <paramref name="key"/> (integer or float), or null when absent.</summary>
    public double? GetNumber(string key) => Get(key) switch
    {
        null => null,
        float f => f,
        double d => d,
        byte or sbyte or ushort or short or uint or int or long or ulong => Convert.ToDouble(Get(key), CultureInfo.InvariantCulture),
        var other => throw WrongType(key, other, "a number"),
    };

    /// <summary>The boolean at <paramref name="key"/>, or null when absent.</summary>
    public bool? GetBool(string key) => Get(key) switch
    {
        null => null,
        bool b => b,
        var other => throw WrongType(key, other, "a bool"),
    };

    /// <summary>The array at <paramref name="key"/>, or null when absent.</summary>
    public GgufArray? GetArray(string key) => Get(key) switch
    {
        null => null,
        GgufArray array => array,
        var other => throw WrongType(key, other, "an array"),
    };

    /// <inheritdoc />
    public void Dispose() => _handle.Dispose();

    private object? Get(string key) => Metadata.GetValueOrDefault(key);

    private InvalidDataException WrongType(string key, object value, string expected) =>
        new($"'{Path}': metadata '{key}' is {Describe(value)}, expected {expected}.");

    private static string Describe(object value) => value switch
    {
        GgufArray array => $"an array of {array.Length} {array.ElementType}",
        string s => $"the string '{(s.Length > 40 ? s[..40] + "…" : s)}'",
        _ => $"{value} ({value.GetType().Name})",
    };

    /// <summary>Little-endian reads with every length checked against what is left of the file.</summary>
    private sealed class Reader(Stream stream, long length, string path)
    {
        private readonly byte[] _scratch = new byte[8];

        public uint UInt32() => BitConverter.ToUInt32(Bytes(4));

        public ulong UInt64() => BitConverter.ToUInt64(Bytes(8));

        public long Count(string what, int minBytesEach)
        {
            ulong n = UInt64();
            return n <= (ulong)(length - stream.Position) / (ulong)minBytesEach
                ? (long)n
                : throw new InvalidDataException($"'{path}' claims a {what} of {n}, more than its {length:N0} bytes can hold; the file is damaged or truncated.");
        }

        public string String()
        {
            ulong n = UInt64();
            if (n > (ulong)(length - stream.Position) || n > int.MaxValue)
            {
                throw new InvalidDataException($"'{path}' has a string of {n} bytes at byte {stream.Position - 8:N0}, past the end of the file; it is damaged or truncated.");
            }

            byte[] bytes = new byte[n];
            stream.ReadExactly(bytes);
            return Encoding.UTF8.GetString(bytes);
        }

        public object Value(GgufValueType type, string key) => type switch
        {
            GgufValueType.UInt8 => Bytes(1)[0],
            GgufValueType.Int8 => (sbyte)Bytes(1)[0],
            GgufValueType.UInt16 => BitConverter.ToUInt16(Bytes(2)),
            GgufValueType.Int16 => BitConverter.ToInt16(Bytes(2)),
            GgufValueType.UInt32 => UInt32(),
            GgufValueType.Int32 => BitConverter.ToInt32(Bytes(4)),
            GgufValueType.Float32 => BitConverter.ToSingle(Bytes(4)),
            GgufValueType.Bool => Bytes(1)[0] switch
            {
                0 => false,
                1 => true,
                var b => throw new InvalidDataException($"'{path}': metadata '{key}' is a bool of value {b}."),
            },
            GgufValueType.String => String(),
            GgufValueType.UInt64 => UInt64(),
            GgufValueType.Int64 => BitConverter.ToInt64(Bytes(8)),
            GgufValueType.Float64 => BitConverter.ToDouble(Bytes(8)),
            GgufValueType.Array => Array(key),
            _ => throw new InvalidDataException($"'{path}': metadata '{key}' has value type {(int)type}, which GGUF does not define."),
        };

        private GgufArray Array(string key)
        {
            var type = (GgufValueType)UInt32();
            int size = type switch
            {
                GgufValueType.UInt8 or GgufValueType.Int8 or GgufValueType.Bool => 1,
                GgufValueType.UInt16 or GgufValueType.Int16 => 2,
                GgufValueType.UInt32 or GgufValueType.Int32 or GgufValueType.Float32 => 4,
                GgufValueType.String or GgufValueType.UInt64 or GgufValueType.Int64 or GgufValueType.Float64 => 8,
                GgufValueType.Array => 12,
                _ => throw new InvalidDataException($"'{path}': metadata '{key}' is an array of value type {(int)type}, which GGUF does not define."),
            };
            int n = (int)Math.Min(Count($"length of array '{key}'", size), int.MaxValue);
            System.Array values = type switch
            {
                GgufValueType.UInt8 => Fill(new byte[n], _ => Bytes(1)[0]),
                GgufValueType.Int8 => Fill(new sbyte[n], _ => (sbyte)Bytes(1)[0]),
                GgufValueType.UInt16 => Fill(new ushort[n], _ => BitConverter.ToUInt16(Bytes(2))),
                GgufValueType.Int16 => Fill(new short[n], _ => BitConverter.ToInt16(Bytes(2))),
                GgufValueType.UInt32 => Fill(new uint[n], _ => UInt32()),
                GgufValueType.Int32 => Fill(new int[n], _ => BitConverter.ToInt32(Bytes(4))),
                GgufValueType.Float32 => Fill(new float[n], _ => BitConverter.ToSingle(Bytes(4))),
                GgufValueType.Bool => Fill(new bool[n], _ => Bytes(1)[0] != 0),
                GgufValueType.String => Fill(new string[n], _ => String()),
                GgufValueType.UInt64 => Fill(new ulong[n], _ => UInt64()),
                GgufValueType.Int64 => Fill(new long[n], _ => BitConverter.ToInt64(Bytes(8))),
                GgufValueType.Float64 => Fill(new double[n], _ => BitConverter.ToDouble(Bytes(8))),
                _ => Fill(new GgufArray[n], _ => Array(key)),
            };
            return new GgufArray(type, values);
        }

        private static T[] Fill<T>(T[] values, Func<int, T> read)
        {
            for (int i = 0; i < values.Length; i++)
            {
                values[i] = read(i);
            }

            return values;
        }

        private byte[] Bytes(int n)
        {
            int read = stream.ReadAtLeast(_scratch.AsSpan(0, n), n, throwOnEndOfStream: false);
            if (read < n)
            {
                throw new InvalidDataException($"'{path}' ends inside its header or metadata (at byte {stream.Position:N0}); it is truncated.");
            }

            return _scratch;
        }
    }
}
