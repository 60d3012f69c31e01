namespace LlmAspire.Inference.Models;

/// <summary>
/// Deterministic random-weight Llama models of useful sizes (<c>llmaspire model create-demo</c>): the same preset
/// always writes the same bytes. They use the demo vocabulary (<see cref="BuiltInModels.DemoVocabulary"/>).
/// </summary>
public static class DemoPresets
{
    /// <summary>The built-in demo model: two layers of width 64, written in milliseconds.</summary>
    public static DemoPreset Tiny { get; } = new(
        "tiny",
        "the built-in demo model (2 layers, dim 64)",
        BuiltInModels.DemoConfig,
        Seed: 260,
        Scale: 0.05f);

    /// <summary>
    /// About 104 M parameters (dim 768, 12 layers, 12 heads, 4 key/value heads, FFN 3072), ~415 MB in float32: big
    /// enough that decoding is bound by memory bandwidth, as with real models. Weights are N(0, 1/dim), so every
    /// projection of a normalized activation has unit variance and the logits a standard deviation near 1.
    /// </summary>
    public static DemoPreset Base100M { get; } = new(
        "100m",
        "~104M parameters (12 layers, dim 768, 12 heads, 4 kv heads, ffn 3072), ~415 MB float32",
        new LlamaConfig(Dim: 768, HiddenDim: 3072, Layers: 12, Heads: 12, KvHeads: 4, VocabSize: BuiltInModels.DemoConfig.VocabSize, ContextLength: 1024),
        Seed: 100,
        Scale: 1f / MathF.Sqrt(768));

    /// <summary>Every preset, smallest first.</summary>
    public static IReadOnlyList<DemoPreset> All { get; } = [Tiny, Base100M];

    /// <summary>The preset named <paramref name="name"/> (case-insensitive).</summary>
    public static DemoPreset Get(string name) =>
        All.FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"Unknown preset '{name}'; the presets are {string.Join(", ", All.Select(p => p.Name))}.", nameof(name));

    /// <summary>Writes the preset's model folder to <paramref name="directory"/>.</summary>
    public static void Write(DemoPreset preset, string directory)
    {
        ArgumentNullException.ThrowIfNull(preset);
        LlamaWeights weights = BuiltInModels.RandomWeights(preset.Config, preset.Seed, preset.Scale);
        ModelFolder.Write(directory, preset.Config, weights, BuiltInModels.DemoVocabulary(), $"demo preset '{preset.Name}': deterministic random weights (seed {preset.Seed})");
    }
}

/// <summary>A random-weight demo model.</summary>
/// <param name="Name">The name <c>--preset</c> takes.</param>
/// <param name="Description">One line for help text.</param>
/// <param name="Config">Its shape.</param>
/// <param name="Seed">Seed of <see cref="BuiltInModels.RandomWeights"/>.</param>
/// <param name="Scale">Standard deviation of the matrices.</param>
public sealed record DemoPreset(string Name, string Description, LlamaConfig Config, int Seed, float Scale)
{
    /// <summary>Parameters of the model (the classifier counted once when tied).</summary>
    public long ParameterCount
    {
        get
        {
            LlamaConfig c = Config;
            long kvDim = (long)c.KvHeads * c.HeadSize;
            long perLayer = 2L * c.Dim * c.Dim + 2 * kvDim * c.Dim + 3L * c.Dim * c.HiddenDim + 2L * c.Dim;
            long embedding = (long)c.VocabSize * c.Dim;
            return embedding * (c.TiedEmbeddings ? 1 : 2) + c.Layers * perLayer + c.Dim;
        }
    }
}
