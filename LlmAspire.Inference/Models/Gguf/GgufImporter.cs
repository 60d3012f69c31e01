using System.Globalization;
using LlmAspire.Inference.Models.HuggingFace;

namespace LlmAspire.Inference.Models.Gguf;

/// <summary>
/// Imports a GGUF file (llama.cpp's format) into a model folder: the architecture's hyper-parameters from the
/// <c>{arch}.*</c> metadata into a <see cref="LlamaConfig"/>, every tensor dequantized to float32 into
/// <see cref="LlamaWeights"/>, the tokenizer from <c>tokenizer.*</c> (<see cref="GgufTokenizer"/>). Architectures:
/// <list type="bullet">
/// <item><c>llama</c> (Llama, Mistral, TinyLlama, llama2.c exports): llama.cpp's "normal" RoPE rotates adjacent pairs, and
/// convert_hf_to_gguf.py already permuted q/k (and their biases) into that order, which is ours: they are used as stored.
/// Optional q/k/v/o biases; Llama 3.1's scaling as the per-pair divisors in <c>rope_freqs.weight</c>; <c>linear</c> scaling;
/// a Mistral sliding window (<c>llama.attention.sliding_window</c>) on every layer.</item>
/// <item><c>qwen2</c> (q/k/v biases), <c>qwen3</c> (per-head q/k RMSNorm, <c>attention.key_length</c>), <c>phi3</c> (fused
/// <c>attn_qkv</c> and <c>ffn_up</c> = gate then up, split here; partial rotary from <c>rope.dimension_count</c>; longrope's
/// <c>rope_factors_short.weight</c> and <c>rope.scaling.attn_factor</c> up to <c>rope.scaling.original_context_length</c>,
/// which becomes the served context; its sliding window on every layer, as transformers applies it) and <c>gemma2</c>
/// (norm weights already hold 1 + w, as the converter adds 1; embeddings × sqrtf(hidden), sandwich norms, GeGLU,
/// soft-capping 50/30 unless given, the attention scale llama.cpp uses: head size, or hidden / heads for the 46-layer 27B;
/// a sliding window of 4096 unless given on the even layers): llama.cpp rotates these NEOX-style, halves of each head,
/// as Hugging Face does, so their q/k rows are interleaved as <see cref="HuggingFaceImporter"/> interleaves them.</item>
/// </list>
/// Every check (architecture, keys, every tensor's presence, shape and type, the file's length) runs before the first
/// tensor is dequantized, and every tensor is read before the first output file is written.
/// </summary>
public static class GgufImporter
{
    /// <summary>The <c>general.architecture</c> values that import.</summary>
    public static IReadOnlyList<string> SupportedArchitectures { get; } = ["llama", "qwen2", "qwen3", "phi3", "gemma2"];

    /// <summary>The linear layers' tensor names within a block (what <c>--quantize auto</c> looks at).</summary>
    private static readonly string[] LinearTensors = ["attn_q", "attn_k", "attn_v", "attn_qkv", "attn_output", "ffn_gate", "ffn_up", "ffn_down"];

    /// <summary>True when <paramref name="path"/> names a file that starts with the GGUF magic.</summary>
    public static bool IsGgufFile(string path)
    {
        if (!File.Exists(path))
        {
            return false;
        }

        using FileStream stream = File.OpenRead(path);
        Span<byte> magic = stackalloc byte[4];
        return stream.ReadAtLeast(magic, 4, throwOnEndOfStream: false) == 4 && BitConverter.ToUInt32(magic) == GgufFile.Magic;
    }

    /// <summary>
    /// Imports <paramref name="path"/> into a model folder at <paramref name="outputDirectory"/> (model.onnx, genai_config.json,
    /// llmaspire.json, tokenizer.json, tokenizer_config.json).
    /// </summary>
    public static LlamaConfig Import(string path, string outputDirectory, long externalDataThreshold = ModelFolder.DefaultExternalDataThreshold)
    {
        using GgufFile file = GgufFile.Open(path);
        LlamaConfig config = ReadConfig(file);
        GgufTokenizer tokenizer = GgufTokenizer.Read(file, config.VocabSize, config.ContextLength);
        LlamaWeights weights = ReadWeights(file, config);
        ModelFolder.WriteModel(outputDirectory, config, weights, $"gguf:{Path.GetFileName(file.Path)}", tokenizer.Tokens, externalDataThreshold);
        tokenizer.Write(outputDirectory);
        return config;
    }

    /// <summary>
    /// The type most of the linear layers' values are stored in (Q4_K for a Q4_K_M file, whose few Q6_K tensors are
    /// fewer values), or null when the file has no linear layers.
    /// </summary>
    public static GgmlType? DominantLinearType(GgufFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        return file.Tensors
            .Where(t => t.Name.StartsWith("blk.", StringComparison.Ordinal) && LinearTensors.Any(l => t.Name.EndsWith($".{l}.weight", StringComparison.Ordinal)))
            .GroupBy(t => t.Type)
            .Select(g => (Type: (GgmlType?)g.Key, Values: g.Sum(t => t.ElementCount)))
            .OrderByDescending(g => g.Values)
            .FirstOrDefault().Type;
    }

    /// <summary>
    /// The MatMulNBits width nearest the file's precision (what <c>model convert --quantize auto</c> picks): 4 for Q4_0,
    /// Q4_1, Q5_0, Q5_1, Q4_K and Q5_K, 8 for Q6_K and Q8_0, null (float32) for F32, F16 and BF16.
    /// </summary>
    public static int? NearestBits(GgmlType? type) => type switch
    {
        GgmlType.Q4_0 or GgmlType.Q4_1 or GgmlType.Q5_0 or GgmlType.Q5_1 or GgmlType.Q4_K or GgmlType.Q5_K => 4,
        GgmlType.Q6_K or GgmlType.Q8_0 => 8,
        _ => null,
    };

    /// <summary>Reads the architecture's metadata into a <see cref="LlamaConfig"/>; an unsupported architecture or variant is a one-line error naming it.</summary>
    public static LlamaConfig ReadConfig(GgufFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        string arch = file.GetString("general.architecture") ?? throw new InvalidDataException($"'{file.Path}' has no general.architecture.");
        if (!SupportedArchitectures.Contains(arch, StringComparer.Ordinal))
        {
            throw new NotSupportedException($"'{file.Path}': architecture '{arch}' is not supported; {string.Join(", ", SupportedArchitectures)} are.");
        }

        int Int(string key, int? fallback = null)
        {
            long value = file.GetInteger($"{arch}.{key}") ?? fallback ?? throw new InvalidDataException($"'{file.Path}' lacks {arch}.{key}.");
            return value is > 0 and <= int.MaxValue ? (int)value : throw new InvalidDataException($"'{file.Path}': {arch}.{key} is {value}.");
        }

        if (file.GetInteger($"{arch}.expert_count") is > 0)
        {
            throw new NotSupportedException($"'{file.Path}': {arch}.expert_count {file.GetInteger($"{arch}.expert_count")}: mixture-of-experts models are not supported.");
        }

        int dim = Int("embedding_length"), layers = Int("block_count"), hidden = Int("feed_forward_length"), heads = Int("attention.head_count");
        int kvHeads = Int("attention.head_count_kv", heads), context = Int("context_length");
        float eps = (float)(file.GetNumber($"{arch}.attention.layer_norm_rms_epsilon") ?? throw new InvalidDataException($"'{file.Path}' lacks {arch}.attention.layer_norm_rms_epsilon."));
        float theta = (float)(file.GetNumber($"{arch}.rope.freq_base") ?? 10000);
        int headSize = Int("attention.key_length", dim % heads == 0 ? dim / heads : null);
        if (Int("attention.value_length", headSize) != headSize)
        {
            throw new NotSupportedException($"'{file.Path}': {arch}.attention.value_length differs from key_length {headSize}; equal key and value heads are supported.");
        }

        if (heads % kvHeads != 0 || headSize % 2 != 0)
        {
            throw new InvalidDataException($"'{file.Path}': inconsistent attention shape: {heads} heads, {kvHeads} key/value heads, head size {headSize}.");
        }

        int rotary = Int("rope.dimension_count", headSize);
        if (rotary != headSize && (arch != "phi3" || rotary > headSize || rotary % 2 != 0))
        {
            throw new NotSupportedException($"'{file.Path}': {arch}.rope.dimension_count {rotary} differs from the head size {headSize}; partial rotary is supported for phi3 only.");
        }

        GgufTensorInfo embedding = file.FindTensor("token_embd.weight") ?? throw MissingTensor(file, "token_embd.weight");
        if (embedding.Dimensions.Length != 2 || embedding.Dimensions[0] != dim || embedding.Dimensions[1] > int.MaxValue)
        {
            throw new InvalidDataException($"'{file.Path}': tensor 'token_embd.weight' is {embedding.Shape}; {arch}.embedding_length implies [{dim}, vocab].");
        }

        int vocab = (int)embedding.Dimensions[1];
        bool tied = file.FindTensor("output.weight") is null;
        (RopeScaling? scaling, context) = ReadRopeScaling(file, arch, rotary, context);
        bool llamaBias = arch == "llama" && file.FindTensor("blk.0.attn_q.bias") is not null;
        int window = arch is "llama" or "phi3" or "gemma2" ? (int)(file.GetInteger($"{arch}.attention.sliding_window") ?? (arch == "gemma2" ? 4096 : 0)) : 0;
        window = window > 0 && window < context ? window : 0;
        var config = new LlamaConfig(dim, hidden, layers, heads, kvHeads, vocab, context, theta, eps, tied)
        {
            ModelType = arch == "llama" && window > 0 ? "mistral" : arch,
            HeadDim = headSize != dim / heads || dim % heads != 0 ? headSize : 0,
            RotaryDim = rotary != headSize ? rotary : 0,
            RopeScaling = scaling,
            SlidingWindow = window,
            QkvBias = llamaBias || arch == "qwen2",
            OutputBias = arch == "llama" && file.FindTensor("blk.0.attn_output.bias") is not null,
            QkNorm = arch == "qwen3",
        };
        if (arch == "gemma2")
        {
            config = config with
            {
                HiddenAct = "gelu_pytorch_tanh",
                SandwichNorms = true,
                EmbeddingMultiplier = MathF.Sqrt(dim),
                QueryPreAttnScalar = layers == 46 ? dim / heads : headSize,
                AttentionSoftcap = (float)(file.GetNumber("gemma2.attn_logit_softcapping") ?? 50),
                FinalLogitSoftcap = (float)(file.GetNumber("gemma2.final_logit_softcapping") ?? 30),
                AlternatingSlidingWindow = window > 0,
            };
        }

        return config;
    }

    /// <summary>
    /// The rotary scaling: <c>linear</c> from <c>rope.scaling.type</c>/<c>factor</c>; Llama 3.1's per-pair divisors from
    /// <c>rope_freqs.weight</c> (frequency i divided by factor i, which is what longrope's short factors are); Phi-3's longrope.
    /// Returns the context to serve (longrope's original length).
    /// </summary>
    private static (RopeScaling? Scaling, int Context) ReadRopeScaling(GgufFile file, string arch, int rotary, int context)
    {
        string type = file.GetString($"{arch}.rope.scaling.type") ?? "none";
        GgufTensorInfo? freqs = file.FindTensor("rope_freqs.weight");
        GgufTensorInfo? shortFactors = file.FindTensor("rope_factors_short.weight");
        float[] Factors(GgufTensorInfo tensor)
        {
            float[] values = tensor.ElementCount == rotary / 2
                ? file.ReadFloat32(tensor)
                : throw new InvalidDataException($"'{file.Path}': tensor '{tensor.Name}' has {tensor.ElementCount} values; the rotary dimension {rotary} needs {rotary / 2}.");
            return values.All(v => v > 0) ? values : throw new InvalidDataException($"'{file.Path}': tensor '{tensor.Name}' has a factor that is not positive.");
        }

        if (arch == "phi3" && shortFactors is not null)
        {
            // llama.cpp uses the short factors while the context stays within the original length, as transformers does.
            int original = (int)(file.GetInteger("phi3.rope.scaling.original_context_length")
                ?? throw new InvalidDataException($"'{file.Path}' has rope_factors_short.weight but no phi3.rope.scaling.original_context_length."));
            if (original <= 0)
            {
                throw new InvalidDataException($"'{file.Path}': phi3.rope.scaling.original_context_length is {original}.");
            }

            double factor = (double)context / original;
            double attention = file.GetNumber("phi3.rope.scaling.attn_factor") ?? (factor <= 1 ? 1 : Math.Sqrt(1 + Math.Log(factor) / Math.Log(original)));
            var scaling = new RopeScaling("longrope", factor, OriginalMaxPositionEmbeddings: Math.Min(original, context))
            {
                ShortFactor = [.. Factors(shortFactors).Select(f => (double)f)],
                AttentionFactor = attention,
            };
            return (scaling, Math.Min(original, context));
        }

        switch (type)
        {
            case "none" when freqs is not null:
                return (new RopeScaling("longrope", 1, OriginalMaxPositionEmbeddings: context) { ShortFactor = [.. Factors(freqs).Select(f => (double)f)] }, context);
            case "none":
                return (null, context);
            case "linear" when freqs is null:
                double linear = file.GetNumber($"{arch}.rope.scaling.factor") ?? throw new InvalidDataException($"'{file.Path}' has linear rope scaling without {arch}.rope.scaling.factor.");
                return (linear is 0 or 1 ? null : new RopeScaling("linear", linear), context);
            default:
                throw new NotSupportedException($"'{file.Path}': {arch}.rope.scaling.type '{type}'{(freqs is null ? "" : " with rope_freqs.weight")} is not supported; none, linear, Llama 3.1's rope_freqs and Phi-3's longrope are.");
        }
    }

    /// <summary>
    /// Reads the weights into our layout, after checking every tensor's presence, shape and type. A missing tensor, a shape
    /// the metadata does not imply, or a type that cannot be dequantized is an error naming the tensor.
    /// </summary>
    public static LlamaWeights ReadWeights(GgufFile file, LlamaConfig config)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(config);
        string arch = file.GetString("general.architecture") ?? string.Empty;
        Dictionary<string, long[]> plan = Plan(arch, config);
        foreach ((string name, long[] shape) in plan)
        {
            GgufTensorInfo tensor = file.FindTensor(name) ?? throw MissingTensor(file, name);
            if (!tensor.Dimensions.SequenceEqual(shape))
            {
                throw new InvalidDataException($"'{file.Path}': tensor '{name}' is {tensor.Shape}; the metadata implies [{string.Join(", ", shape)}].");
            }

            if (!GgmlTypes.Dequantizable.Contains(tensor.Type))
            {
                throw new NotSupportedException(
                    $"'{file.Path}': tensor '{name}' is {GgmlTypes.NameOf(tensor.Type)}, which is not supported; {string.Join(", ", GgmlTypes.Dequantizable.Select(GgmlTypes.NameOf))} are.");
            }

            if (GgmlTypes.BlockOf(tensor.Type) is var (values, _) && shape[0] % values != 0)
            {
                throw new InvalidDataException($"'{file.Path}': tensor '{name}' has rows of {shape[0]} values, not a multiple of {GgmlTypes.NameOf(tensor.Type)}'s block of {values}.");
            }
        }

        float[] Read(string name) => plan.ContainsKey(name)
            ? file.ReadFloat32(file.FindTensor(name)!)
            : throw new InvalidOperationException($"Tensor '{name}' is read but was not planned.");
        int dim = config.Dim, qDim = config.QueryDim, kvDim = config.KvDim, headSize = config.HeadSize, rotary = config.RotarySize;
        bool neox = arch != "llama";
        float[] Q(float[] w, int cols) => neox ? HuggingFaceImporter.InterleaveRotaryRows(w, config.Heads, headSize, cols, rotary) : w;
        float[] K(float[] w, int cols) => neox ? HuggingFaceImporter.InterleaveRotaryRows(w, config.KvHeads, headSize, cols, rotary) : w;
        float[] Norm(float[] w) => HuggingFaceImporter.InterleaveRotaryRows(w, 1, headSize, 1, rotary);
        float[][] Layers(string tensor, Func<float[], float[]>? transform = null) =>
            [.. Enumerable.Range(0, config.Layers).Select(l =>
            {
                float[] values = Read(Block(l, tensor));
                return transform is null ? values : transform(values);
            })];
        float[][]? Optional(bool present, string tensor, Func<float[], float[]>? transform = null) => present ? Layers(tensor, transform) : null;
        static float[] Part(float[] w, long offset, long length) => w.AsSpan((int)offset, (int)length).ToArray();

        bool phi3 = arch == "phi3", gemma = arch == "gemma2";
        float[][]? qkv = phi3 ? Layers("attn_qkv.weight") : null;
        float[][]? gateUp = phi3 ? Layers("ffn_up.weight") : null;
        float[] embedding = Read("token_embd.weight");
        var weights = new LlamaWeights
        {
            TokenEmbedding = embedding,
            AttentionNorm = Layers("attn_norm.weight"),
            Wq = qkv is null ? Layers("attn_q.weight", w => Q(w, dim)) : [.. qkv.Select(w => Q(Part(w, 0, (long)qDim * dim), dim))],
            Wk = qkv is null ? Layers("attn_k.weight", w => K(w, dim)) : [.. qkv.Select(w => K(Part(w, (long)qDim * dim, (long)kvDim * dim), dim))],
            Wv = qkv is null ? Layers("attn_v.weight") : [.. qkv.Select(w => Part(w, (long)(qDim + kvDim) * dim, (long)kvDim * dim))],
            Wo = Layers("attn_output.weight"),
            Bq = Optional(config.QkvBias, "attn_q.bias", b => Q(b, 1)),
            Bk = Optional(config.QkvBias, "attn_k.bias", b => K(b, 1)),
            Bv = Optional(config.QkvBias, "attn_v.bias"),
            Bo = Optional(config.OutputBias, "attn_output.bias"),
            QNorm = Optional(config.QkNorm, "attn_q_norm.weight", Norm),
            KNorm = Optional(config.QkNorm, "attn_k_norm.weight", Norm),
            FfnNorm = Layers("ffn_norm.weight"),
            PostAttentionNorm = Optional(gemma, "post_attention_norm.weight"),
            PostFfnNorm = Optional(gemma, "post_ffw_norm.weight"),
            W1 = gateUp is null ? Layers("ffn_gate.weight") : [.. gateUp.Select(w => Part(w, 0, (long)config.HiddenDim * dim))],
            W2 = Layers("ffn_down.weight"),
            W3 = gateUp is null ? Layers("ffn_up.weight") : [.. gateUp.Select(w => Part(w, (long)config.HiddenDim * dim, (long)config.HiddenDim * dim))],
            FinalNorm = Read("output_norm.weight"),
            Classifier = config.TiedEmbeddings ? embedding : Read("output.weight"),
        };
        weights.Validate(config);
        return weights;
    }

    /// <summary>Every tensor the import reads, with the shape (ne, innermost first) the configuration implies.</summary>
    private static Dictionary<string, long[]> Plan(string arch, LlamaConfig config)
    {
        long dim = config.Dim, qDim = config.QueryDim, kvDim = config.KvDim, ff = config.HiddenDim, vocab = config.VocabSize;
        var plan = new Dictionary<string, long[]>(StringComparer.Ordinal)
        {
            ["token_embd.weight"] = [dim, vocab],
            ["output_norm.weight"] = [dim],
        };
        if (!config.TiedEmbeddings)
        {
            plan["output.weight"] = [dim, vocab];
        }

        for (int l = 0; l < config.Layers; l++)
        {
            void Add(string tensor, params long[] shape) => plan[Block(l, tensor)] = shape;
            Add("attn_norm.weight", dim);
            if (arch == "phi3")
            {
                Add("attn_qkv.weight", dim, qDim + 2 * kvDim);
                Add("ffn_up.weight", dim, 2 * ff);
            }
            else
            {
                Add("attn_q.weight", dim, qDim);
                Add("attn_k.weight", dim, kvDim);
                Add("attn_v.weight", dim, kvDim);
                Add("ffn_gate.weight", dim, ff);
                Add("ffn_up.weight", dim, ff);
            }

            Add("attn_output.weight", qDim, dim);
            Add("ffn_down.weight", ff, dim);
            Add("ffn_norm.weight", dim);
            if (config.QkvBias)
            {
                Add("attn_q.bias", qDim);
                Add("attn_k.bias", kvDim);
                Add("attn_v.bias", kvDim);
            }

            if (config.OutputBias)
            {
                Add("attn_output.bias", dim);
            }

            if (config.QkNorm)
            {
                Add("attn_q_norm.weight", config.HeadSize);
                Add("attn_k_norm.weight", config.HeadSize);
            }

            if (config.SandwichNorms)
            {
                Add("post_attention_norm.weight", dim);
                Add("post_ffw_norm.weight", dim);
            }
        }

        return plan;
    }

    private static string Block(int layer, string tensor) => string.Create(CultureInfo.InvariantCulture, $"blk.{layer}.{tensor}");

    private static InvalidDataException MissingTensor(GgufFile file, string name) =>
        new($"'{file.Path}' lacks tensor '{name}', which its architecture '{file.GetString("general.architecture")}' needs.");
}
