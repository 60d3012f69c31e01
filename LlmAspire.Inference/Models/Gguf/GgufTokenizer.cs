using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using LlmAspire.Inference.Tokenization;

namespace LlmAspire.Inference.Models.Gguf;

/// <summary>
/// The tokenizer a GGUF file carries in its <c>tokenizer.*</c> metadata, as the <c>tokenizer.json</c> and
/// <c>tokenizer_config.json</c> of a model folder (built in memory, written by <see cref="Write"/>):
/// <list type="bullet">
/// <item><c>tokenizer.ggml.model = llama</c>: SentencePiece BPE (tokens with "▁", scores, token types: unknown,
/// control, user-defined, unused and byte <c>&lt;0xNN&gt;</c> tokens), written by <see cref="TokenizerJsonWriter"/> with
/// merges derived from the scores, the control and user-defined tokens as added tokens, and
/// <c>tokenizer.ggml.add_space_prefix</c> as the dummy prefix;</item>
/// <item><c>tokenizer.ggml.model = gpt2</c>: byte-level BPE (tokens in GPT-2's byte alphabet, <c>tokenizer.ggml.merges</c>),
/// the pre-tokenizer named by <c>tokenizer.ggml.pre</c> (llama3, qwen2, gpt-2 and their aliases) as the regex that
/// model's own tokenizer.json has.</item>
/// </list>
/// The special ids (<c>bos/eos/eot/eom/unknown/padding_token_id</c>), <c>add_bos_token</c>, <c>add_eos_token</c> and
/// <c>tokenizer.chat_template</c> carry over.
/// </summary>
public sealed class GgufTokenizer
{
    /// <summary>The tokenizer models this reads.</summary>
    public static IReadOnlyList<string> SupportedModels { get; } = ["llama", "gpt2"];

    // Pre-tokenizer names (llama.cpp's llama-vocab.cpp) → the Split regex of the model's tokenizer.json; null for GPT-2's ByteLevel regex.
    private const string Llama3Regex = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
    private const string Qwen2Regex = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    private static readonly Dictionary<string, (string? Regex, bool IgnoreMerges)> PreTokenizers = new(StringComparer.Ordinal)
    {
        ["llama3"] = (Llama3Regex, true),
        ["llama-v3"] = (Llama3Regex, true),
        ["llama-bpe"] = (Llama3Regex, true),
        ["dbrx"] = (Llama3Regex, false),
        ["smaug-bpe"] = (Llama3Regex, false),
        ["qwen2"] = (Qwen2Regex, false),
        ["deepseek-r1-qwen"] = (Qwen2Regex, false),
        ["gpt-2"] = (null, false),
        ["phi-2"] = (null, false),
    };

    private const int TokenTypeUnknown = 2;
    private const int TokenTypeControl = 3;
    private const int TokenTypeUserDefined = 4;
    private const int TokenTypeUnused = 5;

    private static readonly JsonWriterOptions WriterOptions = new() { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly byte[] _tokenizerJson;
    private readonly byte[] _tokenizerConfig;

    private GgufTokenizer(string model, TokenIds tokens, byte[] tokenizerJson, byte[] tokenizerConfig)
    {
        Model = model;
        Tokens = tokens;
        _tokenizerJson = tokenizerJson;
        _tokenizerConfig = tokenizerConfig;
    }

    /// <summary><c>tokenizer.ggml.model</c>.</summary>
    public string Model { get; }

    /// <summary>BOS, the EOS ids (EOS, then end-of-turn and end-of-message when given) and padding, for genai_config.json.</summary>
    public TokenIds Tokens { get; }

    /// <summary>
    /// Reads the tokenizer of <paramref name="file"/>, whose model has <paramref name="vocabSize"/> embedding rows; a missing
    /// key, an unsupported model or pre-tokenizer, or a vocabulary of another size is an error naming it.
    /// </summary>
    public static GgufTokenizer Read(GgufFile file, int vocabSize, int contextLength)
    {
        ArgumentNullException.ThrowIfNull(file);
        string model = file.GetString("tokenizer.ggml.model")
            ?? throw new InvalidDataException($"'{file.Path}' has no tokenizer (tokenizer.ggml.model); it cannot be served without one.");
        if (!SupportedModels.Contains(model, StringComparer.Ordinal))
        {
            throw new NotSupportedException($"'{file.Path}': tokenizer.ggml.model '{model}' is not supported; {string.Join(" and ", SupportedModels)} are.");
        }

        string[] tokens = file.GetArray("tokenizer.ggml.tokens")?.Values as string[]
            ?? throw new InvalidDataException($"'{file.Path}' has no string array tokenizer.ggml.tokens.");
        if (tokens.Length != vocabSize)
        {
            throw new InvalidDataException($"'{file.Path}': tokenizer.ggml.tokens has {tokens.Length} tokens, token_embd.weight {vocabSize} rows.");
        }

        int[] types = TokenTypes(file, tokens.Length);
        int Id(string key, int? fallback)
        {
            long? id = file.GetInteger($"tokenizer.ggml.{key}_token_id") ?? fallback;
            return id is null ? -1
                : id >= 0 && id < tokens.Length ? (int)id
                : throw new InvalidDataException($"'{file.Path}': tokenizer.ggml.{key}_token_id {id} lies outside the {tokens.Length} tokens.");
        }

        bool spm = model == "llama";
        int bos = Id("bos", spm ? 1 : null), eos = Id("eos", spm ? 2 : null), unk = Id("unknown", spm ? 0 : null), pad = Id("padding", null);
        if (eos < 0)
        {
            throw new InvalidDataException($"'{file.Path}' has no tokenizer.ggml.eos_token_id; generation could not stop.");
        }

        int[] ends = [.. new[] { eos, Id("eot", null), Id("eom", null) }.Where(id => id >= 0).Distinct()];
        bool addBos = file.GetBool("tokenizer.ggml.add_bos_token") ?? spm;
        bool addEos = file.GetBool("tokenizer.ggml.add_eos_token") ?? false;
        string? template = file.GetString("tokenizer.chat_template");
        var ids = new TokenIds(bos >= 0 ? bos : eos, ends, pad >= 0 ? pad : eos);
        (byte[] json, byte[] config) = spm
            ? SentencePiece(file, tokens, types, unk, bos, eos, pad, addBos, addEos, template, contextLength)
            : ByteLevel(file, tokens, types, bos, eos, pad, addBos, addEos, template, contextLength);
        return new GgufTokenizer(model, ids, json, config);
    }

    /// <summary>Writes tokenizer.json and tokenizer_config.json into <paramref name="directory"/>.</summary>
    public void Write(string directory)
    {
        Directory.CreateDirectory(directory);
        File.WriteAllBytes(Path.Combine(directory, TokenizerJson.FileName), _tokenizerJson);
        File.WriteAllBytes(Path.Combine(directory, TokenizerConfig.FileName), _tokenizerConfig);
    }

    private static int[] TokenTypes(GgufFile file, int count)
    {
        GgufArray? array = file.GetArray("tokenizer.ggml.token_type");
        if (array is null)
        {
            return new int[count];
        }

        int[] types = array.Values switch
        {
            int[] i => i,
            uint[] u => [.. u.Select(v => (int)v)],
            _ => throw new InvalidDataException($"'{file.Path}': tokenizer.ggml.token_type is an array of {array.ElementType}, not of integers."),
        };
        return types.Length == count
            ? types
            : throw new InvalidDataException($"'{file.Path}': tokenizer.ggml.token_type has {types.Length} entries for {count} tokens.");
    }

    private static (byte[] Json, byte[] Config) SentencePiece(
        GgufFile file, string[] tokens, int[] types, int unk, int bos, int eos, int pad, bool addBos, bool addEos, string? template, int contextLength)
    {
        float[] scores = file.GetArray("tokenizer.ggml.scores")?.Values as float[] ?? new float[tokens.Length];
        if (scores.Length != tokens.Length)
        {
            throw new InvalidDataException($"'{file.Path}': tokenizer.ggml.scores has {scores.Length} entries for {tokens.Length} tokens.");
        }

        if (unk < 0 || bos < 0)
        {
            throw new InvalidDataException($"'{file.Path}': a SentencePiece vocabulary needs tokenizer.ggml.unknown_token_id and bos_token_id.");
        }

        // SentencePieceBpeTokenizer spells "▁" as a space, as llama2.c vocabularies do; the writer turns it back.
        var tokenizer = new SentencePieceBpeTokenizer([.. tokens.Select(t => t.Replace('▁', ' '))], scores, unk, bos, eos);
        var added = new Dictionary<int, bool>();
        var unused = new HashSet<int>();
        for (int id = 0; id < types.Length; id++)
        {
            switch (types[id])
            {
                case TokenTypeControl or TokenTypeUnknown:
                    added[id] = true;
                    break;
                case TokenTypeUserDefined:
                    added[id] = false;
                    break;
                case TokenTypeUnused:
                    unused.Add(id);
                    break;
            }
        }

        try
        {
            return TokenizerJsonWriter.Build(tokenizer, contextLength, new SentencePieceJsonOptions
            {
                KeepControlNames = true,
                AddedTokens = added,
                UnusedTokens = unused,
                AddBos = addBos,
                AddEos = addEos,
                AddPrefixSpace = file.GetBool("tokenizer.ggml.add_space_prefix") ?? true,
                PadId = pad >= 0 ? pad : null,
                ChatTemplate = template,
            });
        }
        catch (InvalidDataException ex)
        {
            throw new InvalidDataException($"'{file.Path}': {ex.Message}", ex);
        }
    }

    private static (byte[] Json, byte[] Config) ByteLevel(
        GgufFile file, string[] tokens, int[] types, int bos, int eos, int pad, bool addBos, bool addEos, string? template, int contextLength)
    {
        string pre = file.GetString("tokenizer.ggml.pre") ?? "gpt-2";
        if (!PreTokenizers.TryGetValue(pre, out var preTokenizer))
        {
            throw new NotSupportedException(
                $"'{file.Path}': tokenizer.ggml.pre '{pre}' is not supported; {string.Join(", ", PreTokenizers.Keys)} are.");
        }

        string[] merges = file.GetArray("tokenizer.ggml.merges")?.Values as string[]
            ?? throw new InvalidDataException($"'{file.Path}' has a gpt2 tokenizer without tokenizer.ggml.merges.");
        var seen = new Dictionary<string, int>(tokens.Length, StringComparer.Ordinal);
        for (int id = 0; id < tokens.Length; id++)
        {
            if (!seen.TryAdd(tokens[id], id))
            {
                throw new InvalidDataException($"'{file.Path}': tokens {seen[tokens[id]]} and {id} are both '{tokens[id]}'; tokenizer.json needs unique tokens.");
            }
        }

        foreach (string merge in merges)
        {
            int space = merge.IndexOf(' ', StringComparison.Ordinal);
            if (space <= 0 || space == merge.Length - 1 || merge.IndexOf(' ', space + 1) >= 0)
            {
                throw new InvalidDataException($"'{file.Path}': merge \"{merge}\" is not two tokens separated by one space.");
            }
        }

        int[] added = [.. Enumerable.Range(0, tokens.Length).Where(id => types[id] is TokenTypeControl or TokenTypeUserDefined)];
        string Name(int id) => tokens[id];

        using var json = new MemoryStream();
        using (var w = new Utf8JsonWriter(json, WriterOptions))
        {
            w.WriteStartObject();
            w.WriteString("version", "1.0");
            w.WriteNull("truncation");
            w.WriteNull("padding");
            w.WriteStartArray("added_tokens");
            foreach (int id in added)
            {
                TokenizerJsonWriter.WriteAddedToken(w, id, Name(id), includeId: true, special: types[id] == TokenTypeControl);
            }

            w.WriteEndArray();
            w.WriteNull("normalizer");
            w.WriteStartObject("pre_tokenizer");
            if (preTokenizer.Regex is null)
            {
                WriteByteLevel(w, useRegex: true, addPrefixSpace: false);
            }
            else
            {
                w.WriteString("type", "Sequence");
                w.WriteStartArray("pretokenizers");
                w.WriteStartObject();
                w.WriteString("type", "Split");
                w.WriteStartObject("pattern");
                w.WriteString("Regex", preTokenizer.Regex);
                w.WriteEndObject();
                w.WriteString("behavior", "Isolated");
                w.WriteBoolean("invert", false);
                w.WriteEndObject();
                w.WriteStartObject();
                WriteByteLevel(w, useRegex: false, addPrefixSpace: false);
                w.WriteEndObject();
                w.WriteEndArray();
            }

            w.WriteEndObject();
            w.WriteStartObject("post_processor");
            w.WriteString("type", "TemplateProcessing");
            w.WriteStartArray("single");
            if (addBos && bos >= 0)
            {
                TokenizerJsonWriter.WriteTemplateItem(w, "SpecialToken", Name(bos), 0);
            }

            TokenizerJsonWriter.WriteTemplateItem(w, "Sequence", "A", 0);
            if (addEos)
            {
                TokenizerJsonWriter.WriteTemplateItem(w, "SpecialToken", Name(eos), 0);
            }

            w.WriteEndArray();
            w.WriteStartArray("pair");
            w.WriteEndArray();
            w.WriteStartObject("special_tokens");
            foreach (int id in new[] { addBos ? bos : -1, addEos ? eos : -1 }.Where(id => id >= 0).Distinct())
            {
                w.WriteStartObject(Name(id));
                w.WriteString("id", Name(id));
                w.WriteStartArray("ids");
                w.WriteNumberValue(id);
                w.WriteEndArray();
                w.WriteStartArray("tokens");
                w.WriteStringValue(Name(id));
                w.WriteEndArray();
                w.WriteEndObject();
            }

            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteStartObject("decoder");
            WriteByteLevel(w, useRegex: true, addPrefixSpace: true);
            w.WriteEndObject();
            w.WriteStartObject("model");
            w.WriteString("type", "BPE");
            w.WriteNull("dropout");
            w.WriteNull("unk_token");
            w.WriteString("continuing_subword_prefix", string.Empty);
            w.WriteString("end_of_word_suffix", string.Empty);
            w.WriteBoolean("fuse_unk", false);
            w.WriteBoolean("byte_fallback", false);
            w.WriteBoolean("ignore_merges", preTokenizer.IgnoreMerges);
            w.WriteStartObject("vocab");
            for (int id = 0; id < tokens.Length; id++)
            {
                w.WriteNumber(tokens[id], id);
            }

            w.WriteEndObject();
            w.WriteStartArray("merges");
            foreach (string merge in merges)
            {
                w.WriteStringValue(merge);
            }

            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndObject();
        }

        using var config = new MemoryStream();
        using (var w = new Utf8JsonWriter(config, WriterOptions))
        {
            w.WriteStartObject();
            w.WriteBoolean("add_bos_token", addBos && bos >= 0);
            w.WriteBoolean("add_eos_token", addEos);
            w.WriteStartObject("added_tokens_decoder");
            foreach (int id in added)
            {
                w.WritePropertyName(id.ToString(CultureInfo.InvariantCulture));
                TokenizerJsonWriter.WriteAddedToken(w, id, Name(id), includeId: false, special: types[id] == TokenTypeControl);
            }

            w.WriteEndObject();
            WriteName("bos_token", bos);
            if (template is not null)
            {
                w.WriteString("chat_template", template);
            }

            w.WriteBoolean("clean_up_tokenization_spaces", false);
            WriteName("eos_token", eos);
            w.WriteNumber("model_max_length", contextLength);
            WriteName("pad_token", pad);
            w.WriteString("tokenizer_class", "PreTrainedTokenizerFast");
            w.WriteNull("unk_token");
            w.WriteEndObject();

            void WriteName(string key, int id)
            {
                if (id >= 0)
                {
                    w.WriteString(key, Name(id));
                }
                else
                {
                    w.WriteNull(key);
                }
            }
        }

        return (json.ToArray(), config.ToArray());
    }

    private static void WriteByteLevel(Utf8JsonWriter w, bool useRegex, bool addPrefixSpace)
    {
        w.WriteString("type", "ByteLevel");
        w.WriteBoolean("add_prefix_space", addPrefixSpace);
        w.WriteBoolean("trim_offsets", true);
        w.WriteBoolean("use_regex", useRegex);
    }
}
