using LlmAspire.Inference.Tokenization;

namespace LlmAspire.Inference.Models;

/// <summary>Models the engine can make by itself, with deterministic random weights.</summary>
public static class BuiltInModels
{
    /// <summary>Name of the built-in demo model (the folder name, hence the model id).</summary>
    public const string DemoName = "llmaspire-demo";

    /// <summary>Shape of the demo model: small enough to build in milliseconds, big enough to exercise every op.</summary>
    public static LlamaConfig DemoConfig { get; } = new(Dim: 64, HiddenDim: 172, Layers: 2, Heads: 4, KvHeads: 2, VocabSize: DemoVocabulary().Pieces.Count, ContextLength: 1024);

    /// <summary>Writes (or reuses) the built-in demo model folder under <paramref name="outputDirectory"/> and returns its path.</summary>
    public static string EnsureDemoFolder(string outputDirectory)
    {
        string folder = Path.Combine(outputDirectory, DemoName);
        if (File.Exists(Path.Combine(folder, ModelFolder.ModelFile)) && File.Exists(Path.Combine(folder, ModelFolder.TokenizerFile)))
        {
            return folder;
        }

        // Write beside, then move into place, so a concurrent process never sees half a folder.
        string staging = folder + "." + Guid.NewGuid().ToString("N");
        ModelFolder.Write(staging, DemoConfig, RandomWeights(DemoConfig, seed: 260), DemoVocabulary(), "built-in demo: deterministic random weights");
        try
        {
            Directory.Move(staging, folder);
        }
        catch (IOException) when (Directory.Exists(folder))
        {
            Directory.Delete(staging, recursive: true);
        }

        return folder;
    }

    /// <summary>
    /// Deterministic Gaussian weights (norms near 1) for <paramref name="config"/>; biases and per-head norms, when the
    /// configuration has them, are drawn after everything else, so a plain Llama's weights do not depend on them.
    /// </summary>
    public static LlamaWeights RandomWeights(LlamaConfig config, int seed, float scale = 0.05f)
    {
        ArgumentNullException.ThrowIfNull(config);
        var random = new Random(seed);
        int kvDim = config.KvDim, qDim = config.QueryDim;
        float[] Matrix(int length)
        {
            float[] values = new float[length];
            for (int i = 0; i < length; i++)
            {
                // Box-Muller.
                double u1 = 1.0 - random.NextDouble(), u2 = random.NextDouble();
                values[i] = (float)(Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2) * scale);
            }

            return values;
        }

        float[] Norm(int length)
        {
            float[] values = new float[length];
            for (int i = 0; i < length; i++)
            {
                values[i] = 1f + (float)((random.NextDouble() - 0.5) * 0.2);
            }

            return values;
        }

        float[][] Layers(Func<float[]> make) => [.. Enumerable.Range(0, config.Layers).Select(_ => make())];

        float[] embedding = Matrix(config.VocabSize * config.Dim);
        return new LlamaWeights
        {
            TokenEmbedding = embedding,
            AttentionNorm = Layers(() => Norm(config.Dim)),
            Wq = Layers(() => Matrix(qDim * config.Dim)),
            Wk = Layers(() => Matrix(kvDim * config.Dim)),
            Wv = Layers(() => Matrix(kvDim * config.Dim)),
            Wo = Layers(() => Matrix(config.Dim * qDim)),
            FfnNorm = Layers(() => Norm(config.Dim)),
            W1 = Layers(() => Matrix(config.HiddenDim * config.Dim)),
            W2 = Layers(() => Matrix(config.Dim * config.HiddenDim)),
            W3 = Layers(() => Matrix(config.HiddenDim * config.Dim)),
            FinalNorm = Norm(config.Dim),
            Classifier = config.TiedEmbeddings ? embedding : Matrix(config.VocabSize * config.Dim),
            Bq = config.QkvBias ? Layers(() => Matrix(qDim)) : null,
            Bk = config.QkvBias ? Layers(() => Matrix(kvDim)) : null,
            Bv = config.QkvBias ? Layers(() => Matrix(kvDim)) : null,
            Bo = config.OutputBias ? Layers(() => Matrix(config.Dim)) : null,
            QNorm = config.QkNorm ? Layers(() => Norm(config.HeadSize)) : null,
            KNorm = config.QkNorm ? Layers(() => Norm(config.HeadSize)) : null,
            PostAttentionNorm = config.SandwichNorms ? Layers(() => Norm(config.Dim)) : null,
            PostFfnNorm = config.SandwichNorms ? Layers(() => Norm(config.Dim)) : null,
        };
    }

    /// <summary>
    /// A small SentencePiece-style vocabulary: the three specials, the 256 byte-fallback tokens,
    /// printable ASCII and a space-prefixed piece per lowercase letter.
    /// </summary>
    public static SentencePieceBpeTokenizer DemoVocabulary()
    {
        var pieces = new List<string> { "<unk>", "<s>", "</s>" };
        for (int b = 0; b < 256; b++)
        {
            pieces.Add($"<0x{b:X2}>");
        }

        for (char c = ' '; c <= '~'; c++)
        {
            pieces.Add(c.ToString());
        }

        for (char c = 'a'; c <= 'z'; c++)
        {
            pieces.Add(" " + c);
        }

        float[] scores = [.. pieces.Select((_, i) => i < 259 ? 0f : -i)];
        return new SentencePieceBpeTokenizer(pieces, scores);
    }
}
