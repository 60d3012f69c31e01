namespace LlmAspire.Inference.Models;

/// <summary>
/// Deterministic random-weight models of useful sizes (<c>llmaspire model create-demo</c>): the same preset and
/// architecture always write the same bytes. They use the demo vocabulary (<see cref="BuiltInModels.DemoVocabulary"/>).
/// Each architecture has the features that set it apart switched on, so a benchmark of it pays for them.
/// </summary>
public static class DemoPresets
{
    /// <summary>The architecture <c>--arch</c> defaults to.</summary>
    public const string DefaultArchitecture = "llama";

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

    /// <summary>Every preset, smallest first (as Llama; <see cref="Get"/> makes the other architectures).</summary>
    public static IReadOnlyList<DemoPreset> All { get; } = [Tiny, Base100M];

    /// <summary>The architectures <c>--arch</c> takes: Hugging Face's model types (gemma3 for its text decoder).</summary>
    public static IReadOnlyList<string> Architectures { get; } = ["llama", "mistral", "qwen2", "qwen3", "phi3", "gemma2", "gemma3"];

    /// <summary>The preset named <paramref name="name"/> (case-insensitive) in <paramref name="architecture"/>.</summary>
    public static DemoPreset Get(string name, string architecture = DefaultArchitecture)
    {
        DemoPreset preset = All.FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase))
            ?? throw new ArgumentException($"Unknown preset '{name}'; the presets are {string.Join(", ", All.Select(p => p.Name))}.", nameof(name));
        string arch = Architectures.FirstOrDefault(a => string.Equals(a, architecture, StringComparison.OrdinalIgnoreCase))
            ?? throw new ArgumentException($"Unknown architecture '{architecture}'; the architectures are {string.Join(", ", Architectures)}.", nameof(architecture));
        return arch == DefaultArchitecture ? preset : preset with
        {
            Architecture = arch,
            Config = Shape(preset.Config, arch),
            Description = $"{preset.Name} as {arch}: {Features(arch)}",
        };
    }

    /// <summary>
    /// Writes the preset's model folder to <paramref name="directory"/>; <paramref name="fuseProjections"/> false writes
    /// separate q, k, v, gate and up MatMuls (see <see cref="LlamaOnnxBuilder.Build"/>), to measure what fusing them is worth.
    /// </summary>
    public static void Write(DemoPreset preset, string directory, bool fuseProjections = true)
    {
        ArgumentNullException.ThrowIfNull(preset);
        LlamaWeights weights = BuiltInModels.RandomWeights(preset.Config, preset.Seed, preset.Scale);
        string arch = preset.Architecture == DefaultArchitecture ? string.Empty : $" ({preset.Architecture})";
        ModelFolder.Write(directory, preset.Config, weights, BuiltInModels.DemoVocabulary(), $"demo preset '{preset.Name}'{arch}: deterministic random weights (seed {preset.Seed})", fuseProjections);
    }

    /// <summary>
    /// <paramref name="llama"/>'s width, depth and feed-forward as <paramref name="arch"/>, with that family's own choices
    /// (from their Hugging Face configurations): windows are an eighth of the context for Mistral, half for Phi-3 (as
    /// Phi-3-mini's 2047 of 4096) and Gemma (512 of 1024 here), heads of twice the usual size for Qwen3 and Gemma.
    /// </summary>
    private static LlamaConfig Shape(LlamaConfig llama, string arch)
    {
        int headSize = llama.Dim / llama.Heads;
        int context = llama.ContextLength;
        // Heads of twice Llama's size, fewer of them (8 for 100m, 4 for tiny: never hidden / head_dim), a key/value head per four.
        int wide = Math.Max(4, llama.Heads * 2 / 3);
        LlamaConfig wideHeads = llama with { Heads = wide, KvHeads = wide / 4, HeadDim = 2 * headSize };
        LlamaConfig gemma = wideHeads with
        {
            NormEpsilon = 1e-6f,
            HiddenAct = "gelu_pytorch_tanh",
            SandwichNorms = true,
            EmbeddingMultiplier = MathF.Sqrt(llama.Dim),
            QueryPreAttnScalar = 2 * headSize,
            SlidingWindow = context / 2,
        };
        return arch switch
        {
            "mistral" => llama with { ModelType = arch, RopeTheta = 1_000_000f, SlidingWindow = context / 8 },
            "qwen2" => llama with { ModelType = arch, RopeTheta = 1_000_000f, NormEpsilon = 1e-6f, QkvBias = true },
            "qwen3" => wideHeads with { ModelType = arch, RopeTheta = 1_000_000f, NormEpsilon = 1e-6f, QkNorm = true },
            "phi3" => llama with { ModelType = arch, RotaryDim = headSize * 3 / 4, SlidingWindow = context / 2, TiedEmbeddings = false },
            "gemma2" => gemma with { ModelType = arch, AttentionSoftcap = 50f, FinalLogitSoftcap = 30f, AlternatingSlidingWindow = true },
            "gemma3" => gemma with
            {
                ModelType = "gemma3_text",
                QkNorm = true,
                RopeTheta = 1_000_000f,
                RopeScaling = new RopeScaling("linear", 8),
                SlidingWindowPattern = Math.Min(6, llama.Layers), // the tiny preset's two layers: one local, one global
                LocalRopeTheta = 10_000f,
            },
            _ => llama,
        };
    }

    private static string Features(string arch) => arch switch
    {
        "mistral" => "sliding window of 1/8 the context, rope theta 1e6",
        "qwen2" => "q/k/v biases, rope theta 1e6",
        "qwen3" => "per-head q/k norms, head_dim twice hidden/heads, rope theta 1e6",
        "phi3" => "rotary on 3/4 of each head, sliding window of 1/2 the context, untied lm_head",
        "gemma2" => "GeGLU, sandwich norms, softcaps 50/30, window on even layers, head_dim twice hidden/heads",
        "gemma3" => "per-head q/k norms, GeGLU, sandwich norms, 5 local layers (window, rope 1e4) per global one (rope 1e6, linear 8)",
        _ => string.Empty,
    };
}

/// <summary>A random-weight demo model.</summary>
/// <param name="Name">The name <c>--preset</c> takes.</param>
/// <param name="Description">One line for help text.</param>
/// <param name="Config">Its shape.</param>
/// <param name="Seed">Seed of <see cref="BuiltInModels.RandomWeights"/>.</param>
/// <param name="Scale">Standard deviation of the matrices.</param>
public sealed record DemoPreset(string Name, string Description, LlamaConfig Config, int Seed, float Scale)
{
    /// <summary>The architecture <c>--arch</c> named (<see cref="DemoPresets.Architectures"/>).</summary>
    public string Architecture { get; init; } = DemoPresets.DefaultArchitecture;

    /// <summary>Parameters of the model (the classifier counted once when tied).</summary>
    public long ParameterCount => Config.ParameterCount;
}
