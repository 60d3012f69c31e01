using System.Runtime.InteropServices;

namespace LlmAspire.Inference.Models;

/// <summary>Reads and writes llama2.c "legacy" (v0) checkpoints.</summary>
public static class Llama2cCheckpoint
{
    private const int HeaderInts = 7;

    /// <summary>Reads a checkpoint file; an <see cref="InvalidDataException"/> names <paramref name="path"/>.</summary>
    public static (LlamaConfig Config, LlamaWeights Weights) Read(string path)
    {
        using FileStream stream = File.OpenRead(path);
        try
        {
            return Read(stream);
        }
        catch (InvalidDataException ex)
        {
            throw new InvalidDataException($"{path}: {ex.Message}", ex);
        }
    }

    /// <summary>Reads a checkpoint from a stream.</summary>
    public static (LlamaConfig Config, LlamaWeights Weights) Read(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var reader = new BinaryReader(stream);
        int[] header = new int[HeaderInts];
        for (int i = 0; i < HeaderInts; i++)
        {
            header[i] = reader.ReadInt32();
        }

        int dim = header[0], hidden = header[1], layers = header[2], heads = header[3], kvHeads = header[4];
        int vocabRaw = header[5], seqLen = header[6];
        bool tied = vocabRaw > 0;
        int vocab = Math.Abs(vocabRaw);
        if (dim <= 0 || hidden <= 0 || layers <= 0 || heads <= 0 || kvHeads <= 0 || vocab == 0 || seqLen <= 0
            || dim % heads != 0 || heads % kvHeads != 0 || (dim / heads) % 2 != 0)
        {
            throw new InvalidDataException(
                $"Not a llama2.c checkpoint: header dim={dim} hidden_dim={hidden} n_layers={layers} n_heads={heads} n_kv_heads={kvHeads} vocab_size={vocabRaw} seq_len={seqLen}.");
        }

        var config = new LlamaConfig(dim, hidden, layers, heads, kvHeads, vocab, seqLen, TiedEmbeddings: tied);
        int headSize = config.HeadSize;
        int kvDim = kvHeads * headSize;
        if (stream.CanSeek)
        {
            // Checked before reading, so a truncated file (or a header of garbage) fails at once, not after allocating.
            long expected = ExpectedBytes(config);
            long actual = stream.Length;
            if (actual < expected)
            {
                throw new InvalidDataException(
                    $"The llama2.c checkpoint ends early: its header (dim={dim} hidden_dim={hidden} n_layers={layers} n_heads={heads} n_kv_heads={kvHeads} " +
                    $"vocab_size={vocabRaw} seq_len={seqLen}) needs {expected:N0} bytes, the file has {actual:N0}; it is truncated (copy or export it again) " +
                    "or not a llama2.c checkpoint.");
            }
        }

        float[] embedding = ReadFloats(reader, vocab * dim);
        float[][] attNorm = ReadLayers(reader, layers, dim);
        float[][] wq = ReadLayers(reader, layers, dim * dim);
        float[][] wk = ReadLayers(reader, layers, kvDim * dim);
        float[][] wv = ReadLayers(reader, layers, kvDim * dim);
        float[][] wo = ReadLayers(reader, layers, dim * dim);
        float[][] ffnNorm = ReadLayers(reader, layers, dim);
        float[][] w1 = ReadLayers(reader, layers, hidden * dim);
        float[][] w2 = ReadLayers(reader, layers, dim * hidden);
        float[][] w3 = ReadLayers(reader, layers, hidden * dim);
        float[] finalNorm = ReadFloats(reader, dim);
        // freq_cis_real and freq_cis_imag: RoPE is recomputed, skip them.
        ReadFloats(reader, seqLen * headSize / 2);
        ReadFloats(reader, seqLen * headSize / 2);
        float[] classifier = tied ? embedding : ReadFloats(reader, vocab * dim);

        var weights = new LlamaWeights
        {
            TokenEmbedding = embedding,
            AttentionNorm = attNorm,
            Wq = wq,
            Wk = wk,
            Wv = wv,
            Wo = wo,
            FfnNorm = ffnNorm,
            W1 = w1,
            W2 = w2,
            W3 = w3,
            FinalNorm = finalNorm,
            Classifier = classifier,
        };
        return (config, weights);
    }

    /// <summary>Writes a checkpoint (used by tests and the demo model).</summary>
    public static void Write(string path, LlamaConfig config, LlamaWeights weights)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(weights);
        weights.Validate(config);
        using FileStream stream = File.Create(path);
        using var writer = new BinaryWriter(stream);
        int[] header =
        [
            config.Dim, config.HiddenDim, config.Layers, config.Heads, config.KvHeads,
            config.TiedEmbeddings ? config.VocabSize : -config.VocabSize, config.ContextLength,
        ];
        foreach (int value in header)
        {
            writer.Write(value);
        }

        WriteFloats(writer, weights.TokenEmbedding);
        foreach (float[][] layers in new[] { weights.AttentionNorm, weights.Wq, weights.Wk, weights.Wv, weights.Wo, weights.FfnNorm, weights.W1, weights.W2, weights.W3 })
        {
            foreach (float[] layer in layers)
            {
                WriteFloats(writer, layer);
            }
        }

        WriteFloats(writer, weights.FinalNorm);
        float[] freqs = new float[config.ContextLength * config.HeadSize / 2];
        WriteFloats(writer, freqs);
        WriteFloats(writer, freqs);
        if (!config.TiedEmbeddings)
        {
            WriteFloats(writer, weights.Classifier);
        }
    }

    /// <summary>The size of a legacy (v0) checkpoint of <paramref name="config"/>: the header and every float32 tensor.</summary>
    public static long ExpectedBytes(LlamaConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        long dim = config.Dim, hidden = config.HiddenDim, layers = config.Layers, vocab = config.VocabSize;
        long kvDim = (long)config.KvHeads * config.HeadSize;
        long floats = (vocab * dim)                                          // token embedding
            + (layers * ((2 * dim) + (2 * dim * dim) + (2 * kvDim * dim) + (3 * hidden * dim))) // norms, wq wo, wk wv, w1 w2 w3
            + dim                                                            // final norm
            + ((long)config.ContextLength * config.HeadSize)                 // freq_cis_real and freq_cis_imag
            + (config.TiedEmbeddings ? 0 : vocab * dim);                     // classifier
        return (HeaderInts * sizeof(int)) + (floats * sizeof(float));
    }

    private static float[][] ReadLayers(BinaryReader reader, int layers, int length)
    {
        float[][] result = new float[layers][];
        for (int i = 0; i < layers; i++)
        {
            result[i] = ReadFloats(reader, length);
        }

        return result;
    }

    private static float[] ReadFloats(BinaryReader reader, int count)
    {
        float[] values = new float[count];
        Span<byte> bytes = MemoryMarshal.AsBytes(values.AsSpan());
        int read = reader.BaseStream.ReadAtLeast(bytes, bytes.Length, throwOnEndOfStream: false);
        if (read != bytes.Length)
        {
            throw new InvalidDataException("The llama2.c checkpoint ends early: its header does not match its size.");
        }

        return values;
    }

    private static void WriteFloats(BinaryWriter writer, float[] values) =>
        writer.Write(MemoryMarshal.AsBytes(values.AsSpan()));
}
