using System.Globalization;
using Google.Protobuf;
using Onnx;

namespace LlmAspire.Inference.Models.Quantization;

/// <summary>Reads an ONNX file whole: initializers kept as external data are read back into the protobuf.</summary>
public static class OnnxModelFile
{
    /// <summary>Parses <paramref name="path"/> and inlines its external data; returns the model and the external files it read.</summary>
    public static (ModelProto Model, IReadOnlyList<string> ExternalFiles) Load(string path)
    {
        ModelProto model;
        using (FileStream stream = File.OpenRead(path))
        {
            model = ModelProto.Parser.ParseFrom(stream);
        }

        string directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var files = new SortedSet<string>(StringComparer.Ordinal);
        var open = new Dictionary<string, FileStream>(StringComparer.Ordinal);
        try
        {
            foreach (TensorProto tensor in model.Graph.Initializer.Where(t => t.DataLocation == TensorProto.Types.DataLocation.External))
            {
                Dictionary<string, string> entries = tensor.ExternalData.ToDictionary(e => e.Key, e => e.Value, StringComparer.Ordinal);
                string location = entries.TryGetValue("location", out string? l) ? l : throw new InvalidDataException($"Initializer {tensor.Name} has external data without a location.");
                long offset = entries.TryGetValue("offset", out string? o) ? long.Parse(o, CultureInfo.InvariantCulture) : 0;
                if (!open.TryGetValue(location, out FileStream? data))
                {
                    string full = Path.GetFullPath(Path.Combine(directory, location));
                    if (!full.StartsWith(directory + Path.DirectorySeparatorChar, StringComparison.Ordinal))
                    {
                        throw new InvalidDataException($"Initializer {tensor.Name} points outside the model folder ({location}).");
                    }

                    data = File.OpenRead(full);
                    open[location] = data;
                    files.Add(location);
                }

                long length = entries.TryGetValue("length", out string? n) ? long.Parse(n, CultureInfo.InvariantCulture) : data.Length - offset;
                byte[] bytes = new byte[length];
                data.Position = offset;
                data.ReadExactly(bytes);
                tensor.RawData = UnsafeByteOperations.UnsafeWrap(bytes);
                tensor.ExternalData.Clear();
                tensor.DataLocation = TensorProto.Types.DataLocation.Default;
            }
        }
        finally
        {
            foreach (FileStream stream in open.Values)
            {
                stream.Dispose();
            }
        }

        return (model, [.. files]);
    }

    /// <summary>Bytes of the ONNX file plus its external data file (<c>{file}.data</c>, the name GenAI's model builder and <see cref="ModelFolder.WriteOnnx"/> use), if any.</summary>
    public static long SizeOnDisk(string path)
    {
        string data = path + ".data";
        return new FileInfo(path).Length + (File.Exists(data) ? new FileInfo(data).Length : 0);
    }
}
