using System.Text.Json;
using System.Text.RegularExpressions;

namespace LlmAspire.Inference.Tokenization;

/// <summary>
/// Loads Hugging Face tokenizers: <c>tokenizer.json</c> (the fast-tokenizer file) plus <c>tokenizer_config.json</c>
/// (BOS/EOS names, add_bos_token, chat template). Supported models are BPE, in the two shapes decoder LLMs use:
/// SentencePiece-style with byte fallback (Llama 2, TinyLlama, Mistral, Phi-3, llama2.c vocabularies written by
/// <see cref="TokenizerJsonWriter"/>) and byte-level (GPT-2, Llama 3, Qwen). Other model types (WordPiece, Unigram,
/// WordLevel) and unknown normalizers, pre-tokenizers or decoders are a <see cref="NotSupportedException"/> that names
/// what was found.
/// </summary>
public static class TokenizerJson
{
    /// <summary>The tokenizer file name.</summary>
    public const string FileName = "tokenizer.json";

    private static readonly JsonDocumentOptions DocumentOptions = new() { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip, MaxDepth = 256 };

    /// <summary>Whether <paramref name="directory"/> holds a <c>tokenizer.json</c>.</summary>
    public static bool Exists(string directory) => File.Exists(Path.Combine(directory, FileName));

    /// <summary>
    /// Loads <c>tokenizer.json</c> and (when present) <c>tokenizer_config.json</c> from <paramref name="directory"/>.
    /// <paramref name="bosId"/> and <paramref name="eosId"/>, when given (from genai_config.json), override the ids
    /// that the configured token names resolve to.
    /// </summary>
    public static HuggingFaceTokenizer Load(string directory, int? bosId = null, int? eosId = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        string path = Path.Combine(directory, FileName);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"'{directory}' has no {FileName}.", path);
        }

        return Load(path, TokenizerConfig.ReadFolder(directory), bosId, eosId);
    }

    /// <summary>Loads a <c>tokenizer.json</c> file with an already-read configuration.</summary>
    public static HuggingFaceTokenizer Load(string tokenizerJsonPath, TokenizerConfig config, int? bosId = null, int? eosId = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        try
        {
            using FileStream stream = File.OpenRead(tokenizerJsonPath);
            using JsonDocument document = JsonDocument.Parse(stream, DocumentOptions);
            return Build(document.RootElement, config, bosId, eosId);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"'{tokenizerJsonPath}' is not valid JSON: {e.Message}", e);
        }
    }

    /// <summary>Parses the text of a <c>tokenizer.json</c>.</summary>
    public static HuggingFaceTokenizer Parse(string tokenizerJson, TokenizerConfig? config = null, int? bosId = null, int? eosId = null)
    {
        ArgumentNullException.ThrowIfNull(tokenizerJson);
        using JsonDocument document = JsonDocument.Parse(tokenizerJson, DocumentOptions);
        return Build(document.RootElement, config ?? TokenizerConfig.Empty, bosId, eosId);
    }

    private static HuggingFaceTokenizer Build(JsonElement root, TokenizerConfig config, int? bosId, int? eosId)
    {
        if (!root.TryGetProperty("model", out JsonElement model) || model.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidDataException("tokenizer.json has no \"model\" object.");
        }

        string type = model.TryGetProperty("type", out JsonElement t) && t.ValueKind == JsonValueKind.String
            ? t.GetString()!
            : model.TryGetProperty("merges", out _) ? "BPE" : "(none)";
        if (type != "BPE")
        {
            throw new NotSupportedException($"tokenizer.json model type '{type}' is not supported; only BPE models (SentencePiece-style with byte fallback, or byte-level) load.");
        }

        foreach (string affix in new[] { "continuing_subword_prefix", "end_of_word_suffix" })
        {
            if (model.TryGetProperty(affix, out JsonElement value) && value.ValueKind == JsonValueKind.String && value.GetString()!.Length > 0)
            {
                throw new NotSupportedException($"tokenizer.json BPE models with a {affix} ('{value.GetString()}') are not supported.");
            }
        }

        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (JsonProperty entry in model.GetProperty("vocab").EnumerateObject())
        {
            vocab[entry.Name] = entry.Value.GetInt32();
        }

        var merges = new List<(string, string)>();
        if (model.TryGetProperty("merges", out JsonElement mergesNode))
        {
            foreach (JsonElement merge in mergesNode.EnumerateArray())
            {
                merges.Add(ParseMerge(merge));
            }
        }

        var bpe = new BpeModel(
            vocab,
            merges,
            model.TryGetProperty("unk_token", out JsonElement unk) && unk.ValueKind == JsonValueKind.String ? unk.GetString() : null,
            byteFallback: Bool(model, "byte_fallback"),
            fuseUnknown: Bool(model, "fuse_unk"),
            ignoreMerges: Bool(model, "ignore_merges"));

        var added = new List<AddedToken>();
        if (root.TryGetProperty("added_tokens", out JsonElement addedNode) && addedNode.ValueKind == JsonValueKind.Array)
        {
            foreach (JsonElement a in addedNode.EnumerateArray())
            {
                added.Add(new AddedToken(
                    a.GetProperty("id").GetInt32(),
                    a.GetProperty("content").GetString() ?? string.Empty,
                    Bool(a, "special"),
                    Bool(a, "lstrip"),
                    Bool(a, "rstrip"),
                    Bool(a, "single_word"),
                    Bool(a, "normalized")));
            }
        }

        TextNormalizer normalizer = TextNormalizer.Parse(Property(root, "normalizer"));
        PreTokenizer preTokenizer = PreTokenizer.Parse(Property(root, "pre_tokenizer"));
        TokenDecoder decoder = TokenDecoder.Parse(Property(root, "decoder"), preTokenizer.IsByteLevel, bpe.ByteFallback);
        PostProcessorTokens post = PostProcessorTokens.Parse(Property(root, "post_processor"));
        return new HuggingFaceTokenizer(bpe, added, normalizer, preTokenizer, decoder, post, config, bosId, eosId);
    }

    private static (string Left, string Right) ParseMerge(JsonElement merge)
    {
        if (merge.ValueKind == JsonValueKind.Array && merge.GetArrayLength() == 2)
        {
            return (merge[0].GetString() ?? string.Empty, merge[1].GetString() ?? string.Empty);
        }

        if (merge.ValueKind == JsonValueKind.String)
        {
            string line = merge.GetString()!;
            int space = line.IndexOf(' ', StringComparison.Ordinal);
            if (space > 0 && space < line.Length - 1 && line.IndexOf(' ', space + 1) < 0)
            {
                return (line[..space], line[(space + 1)..]);
            }

            throw new InvalidDataException($"tokenizer.json merge \"{line}\" is not two pieces separated by one space.");
        }

        throw new InvalidDataException($"tokenizer.json merge {merge.GetRawText()} is neither \"a b\" nor [\"a\", \"b\"].");
    }

    private static JsonElement Property(JsonElement node, string name) =>
        node.TryGetProperty(name, out JsonElement value) ? value : default;

    private static bool Bool(JsonElement node, string name) =>
        node.TryGetProperty(name, out JsonElement value) && value.ValueKind == JsonValueKind.True;

    /// <summary>The <c>type</c> of a component node.</summary>
    internal static string TypeOf(JsonElement node, string component)
    {
        if (node.ValueKind != JsonValueKind.Object || !node.TryGetProperty("type", out JsonElement type) || type.ValueKind != JsonValueKind.String)
        {
            throw new InvalidDataException($"tokenizer.json {component} {node.GetRawText()} has no type.");
        }

        return type.GetString()!;
    }

    /// <summary>A Replace step: <c>{"pattern": {"String"|"Regex": …}, "content": …}</c>.</summary>
    internal static Func<string, string> ParseReplace(JsonElement node, string component)
    {
        JsonElement pattern = node.GetProperty("pattern");
        string content = node.GetProperty("content").GetString() ?? string.Empty;
        if (pattern.TryGetProperty("String", out JsonElement literal))
        {
            string from = literal.GetString() ?? string.Empty;
            return from.Length == 0 ? static text => text : text => text.Replace(from, content, StringComparison.Ordinal);
        }

        Regex regex = ParsePattern(pattern, component + " Replace");
        return text => regex.Replace(text, content.Replace("$", "$$", StringComparison.Ordinal));
    }

    /// <summary>A pattern node: <c>{"String": …}</c> (literal) or <c>{"Regex": …}</c>.</summary>
    internal static Regex ParsePattern(JsonElement pattern, string component)
    {
        if (pattern.TryGetProperty("String", out JsonElement literal))
        {
            return new Regex(Regex.Escape(literal.GetString() ?? string.Empty), RegexOptions.CultureInvariant);
        }

        if (pattern.TryGetProperty("Regex", out JsonElement regex))
        {
            string source = regex.GetString() ?? string.Empty;
            try
            {
                return new Regex(source, RegexOptions.Compiled | RegexOptions.CultureInvariant);
            }
            catch (ArgumentException e)
            {
                throw new NotSupportedException($"tokenizer.json {component} regex '{source}' is not supported by .NET's regex engine: {e.Message}", e);
            }
        }

        throw new InvalidDataException($"tokenizer.json {component} pattern {pattern.GetRawText()} is neither String nor Regex.");
    }
}
