using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace LlmAspire.Inference.Tokenization;

/// <summary>
/// Writes a <see cref="SentencePieceBpeTokenizer"/> (llama2.c vocabulary: pieces with a space for "▁", and scores)
/// as the <c>tokenizer.json</c> and <c>tokenizer_config.json</c> that Hugging Face's <c>LlamaTokenizerFast</c> writes
/// for Llama 2: normalizer Prepend "▁" + Replace " "→"▁", no pre-tokenizer, a BPE model whose merges come from the
/// scores as transformers' SentencePiece extractor derives them, with <c>unk_token</c> <c>&lt;unk&gt;</c> and
/// <c>fuse_unk</c>, a TemplateProcessing that adds <c>&lt;s&gt;</c>, and the Replace/ByteFallback/Fuse/Strip decoder.
/// <c>byte_fallback</c> is true when the vocabulary has the 256 <c>&lt;0xXX&gt;</c> tokens (Llama 2, tok512) and false
/// when it has none (small custom llama2.c vocabularies): characters outside it then encode as one <c>&lt;unk&gt;</c>
/// per run. Both <see cref="TokenizerJson"/> and ONNX Runtime GenAI (onnxruntime-extensions) load the result.
/// </summary>
public static class TokenizerJsonWriter
{
    /// <summary>Hugging Face's names for the three control tokens.</summary>
    public const string UnkToken = "<unk>";

    /// <summary>Beginning of sequence.</summary>
    public const string BosToken = "<s>";

    /// <summary>End of sequence.</summary>
    public const string EosToken = "</s>";

    private const string Metaspace = "▁";

    private static readonly JsonWriterOptions WriterOptions = new() { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>
    /// Writes <c>tokenizer.json</c> and <c>tokenizer_config.json</c> into <paramref name="directory"/> (created if
    /// needed). <paramref name="modelMaxLength"/> is the context length; <paramref name="chatTemplate"/>, when given,
    /// goes into tokenizer_config.json as <c>chat_template</c>.
    /// </summary>
    public static void Write(SentencePieceBpeTokenizer tokenizer, string directory, int modelMaxLength, string? chatTemplate = null) =>
        Write(tokenizer, directory, modelMaxLength, SentencePieceJsonOptions.Default with { ChatTemplate = chatTemplate });

    /// <summary>Writes <c>tokenizer.json</c> and <c>tokenizer_config.json</c> as <paramref name="options"/> say.</summary>
    public static void Write(SentencePieceBpeTokenizer tokenizer, string directory, int modelMaxLength, SentencePieceJsonOptions options)
    {
        (byte[] json, byte[] config) = Build(tokenizer, modelMaxLength, options);
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        Directory.CreateDirectory(directory);
        File.WriteAllBytes(Path.Combine(directory, TokenizerJson.FileName), json);
        File.WriteAllBytes(Path.Combine(directory, TokenizerConfig.FileName), config);
    }

    /// <summary>The bytes of <c>tokenizer.json</c> and <c>tokenizer_config.json</c>, built in memory (nothing is written).</summary>
    public static (byte[] TokenizerJson, byte[] TokenizerConfig) Build(SentencePieceBpeTokenizer tokenizer, int modelMaxLength, SentencePieceJsonOptions options)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(modelMaxLength);
        string[] pieces = HuggingFacePieces(tokenizer, options.KeepControlNames);
        var special = new SortedDictionary<int, bool> { [tokenizer.UnkId] = true, [tokenizer.BosId] = true, [tokenizer.EosId] = true };
        foreach ((int id, bool isSpecial) in options.AddedTokens)
        {
            if (id < 0 || id >= pieces.Length)
            {
                throw new ArgumentOutOfRangeException(nameof(options), id, "An added token's id lies outside the vocabulary.");
            }

            special.TryAdd(id, isSpecial);
        }

        return (TokenizerJsonBytes(tokenizer, pieces, special, options), TokenizerConfigBytes(tokenizer, pieces, special, modelMaxLength, options));
    }

    /// <summary>The vocabulary as tokenizer.json spells it: "▁" for spaces, Hugging Face's names for unk/BOS/EOS.</summary>
    public static string[] HuggingFacePieces(SentencePieceBpeTokenizer tokenizer) => HuggingFacePieces(tokenizer, keepControlNames: false);

    private static string[] HuggingFacePieces(SentencePieceBpeTokenizer tokenizer, bool keepControlNames)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        var pieces = new string[tokenizer.VocabularySize];
        var seen = new Dictionary<string, int>(pieces.Length, StringComparer.Ordinal);
        for (int id = 0; id < pieces.Length; id++)
        {
            string piece = keepControlNames ? tokenizer.Pieces[id].Replace(" ", Metaspace, StringComparison.Ordinal)
                : id == tokenizer.UnkId ? UnkToken
                : id == tokenizer.BosId ? BosToken
                : id == tokenizer.EosId ? EosToken
                : tokenizer.Pieces[id].Replace(" ", Metaspace, StringComparison.Ordinal);
            if (!seen.TryAdd(piece, id))
            {
                throw new InvalidDataException($"Tokens {seen[piece]} and {id} are both '{piece}'; tokenizer.json needs unique pieces.");
            }

            pieces[id] = piece;
        }

        return pieces;
    }

    /// <summary>
    /// Merges from vocabulary and scores, as transformers' <c>generate_merges</c> derives them: every split of a piece
    /// into two vocabulary pieces (per piece ordered by the halves' ids), then all of them stably ordered by the
    /// merged piece's score, the left half's length and the right half's length, each descending. Control tokens
    /// take no part.
    /// </summary>
    public static IReadOnlyList<(string Left, string Right)> DeriveMerges(IReadOnlyList<string> pieces, IReadOnlyList<float> scores, ISet<int>? controlIds = null)
    {
        ArgumentNullException.ThrowIfNull(pieces);
        ArgumentNullException.ThrowIfNull(scores);
        var ids = new Dictionary<string, int>(pieces.Count, StringComparer.Ordinal);
        for (int id = 0; id < pieces.Count; id++)
        {
            if (controlIds is null || !controlIds.Contains(id))
            {
                ids.TryAdd(pieces[id], id);
            }
        }

        var merges = new List<(string Left, string Right, float Score, int Order)>();
        var local = new List<(string Left, string Right, int LeftId, int RightId)>();
        for (int id = 0; id < pieces.Count; id++)
        {
            string piece = pieces[id];
            if (controlIds is not null && controlIds.Contains(id))
            {
                continue;
            }

            local.Clear();
            for (int split = 1; split < piece.Length; split++)
            {
                if (char.IsLowSurrogate(piece[split]))
                {
                    continue; // split between code points only, as Python does
                }

                if (ids.TryGetValue(piece[..split], out int left) && ids.TryGetValue(piece[split..], out int right))
                {
                    local.Add((piece[..split], piece[split..], left, right));
                }
            }

            foreach (var (l, r, _, _) in local.OrderBy(m => m.LeftId).ThenBy(m => m.RightId))
            {
                merges.Add((l, r, scores[id], merges.Count));
            }
        }

        return merges
            .OrderByDescending(m => m.Score)
            .ThenByDescending(m => CodePoints(m.Left))
            .ThenByDescending(m => CodePoints(m.Right))
            .ThenBy(m => m.Order)
            .Select(m => (m.Left, m.Right))
            .ToList();
    }

    private static int CodePoints(string s)
    {
        int n = 0;
        foreach (Rune _ in s.EnumerateRunes())
        {
            n++;
        }

        return n;
    }

    private static byte[] TokenizerJsonBytes(SentencePieceBpeTokenizer tokenizer, string[] pieces, SortedDictionary<int, bool> added, SentencePieceJsonOptions options)
    {
        var controls = new HashSet<int>(added.Keys.Concat(options.UnusedTokens));
        IReadOnlyList<(string Left, string Right)> merges = DeriveMerges(pieces, tokenizer.Scores, controls);
        string bos = pieces[tokenizer.BosId], eos = pieces[tokenizer.EosId];
        bool stringMerges = merges.All(m => !m.Left.Contains(' ', StringComparison.Ordinal) && !m.Right.Contains(' ', StringComparison.Ordinal));

        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, WriterOptions))
        {
            w.WriteStartObject();
            w.WriteString("version", "1.0");
            w.WriteNull("truncation");
            w.WriteNull("padding");
            w.WriteStartArray("added_tokens");
            foreach ((int id, bool special) in added)
            {
                WriteAddedToken(w, id, pieces[id], includeId: true, special);
            }

            w.WriteEndArray();

            w.WriteStartObject("normalizer");
            w.WriteString("type", "Sequence");
            w.WriteStartArray("normalizers");
            if (options.AddPrefixSpace)
            {
                w.WriteStartObject();
                w.WriteString("type", "Prepend");
                w.WriteString("prepend", Metaspace);
                w.WriteEndObject();
            }

            WriteReplace(w, " ", Metaspace);
            w.WriteEndArray();
            w.WriteEndObject();

            w.WriteNull("pre_tokenizer");

            w.WriteStartObject("post_processor");
            w.WriteString("type", "TemplateProcessing");
            var around = new List<(string Name, int Id)>();
            w.WriteStartArray("single");
            WriteSequence(w, "A", 0);
            w.WriteEndArray();
            w.WriteStartArray("pair");
            WriteSequence(w, "A", 0);
            WriteSequence(w, "B", 1);
            w.WriteEndArray();
            w.WriteStartObject("special_tokens");
            foreach ((string name, int id) in around.DistinctBy(t => t.Name))
            {
                w.WriteStartObject(name);
                w.WriteString("id", name);
                w.WriteStartArray("ids");
                w.WriteNumberValue(id);
                w.WriteEndArray();
                w.WriteStartArray("tokens");
                w.WriteStringValue(name);
                w.WriteEndArray();
                w.WriteEndObject();
            }

            w.WriteEndObject();
            w.WriteEndObject();

            void WriteSequence(Utf8JsonWriter w, string sequence, int typeId)
            {
                if (options.AddBos)
                {
                    WriteTemplateItem(w, "SpecialToken", bos, typeId);
                    around.Add((bos, tokenizer.BosId));
                }

                WriteTemplateItem(w, "Sequence", sequence, typeId);
                if (options.AddEos)
                {
                    WriteTemplateItem(w, "SpecialToken", eos, typeId);
                    around.Add((eos, tokenizer.EosId));
                }
            }

            w.WriteStartObject("decoder");
            w.WriteString("type", "Sequence");
            w.WriteStartArray("decoders");
            WriteReplace(w, Metaspace, " ");
            w.WriteStartObject();
            w.WriteString("type", "ByteFallback");
            w.WriteEndObject();
            w.WriteStartObject();
            w.WriteString("type", "Fuse");
            w.WriteEndObject();
            if (options.AddPrefixSpace)
            {
                w.WriteStartObject();
                w.WriteString("type", "Strip");
                w.WriteString("content", " ");
                w.WriteNumber("start", 1);
                w.WriteNumber("stop", 0);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();

            w.WriteStartObject("model");
            w.WriteString("type", "BPE");
            w.WriteNull("dropout");
            w.WriteString("unk_token", UnkToken);
            w.WriteNull("continuing_subword_prefix");
            w.WriteNull("end_of_word_suffix");
            w.WriteBoolean("fuse_unk", true);
            w.WriteBoolean("byte_fallback", tokenizer.HasByteFallback);
            w.WriteBoolean("ignore_merges", false);
            w.WriteStartObject("vocab");
            for (int id = 0; id < pieces.Length; id++)
            {
                w.WriteNumber(pieces[id], id);
            }

            w.WriteEndObject();
            w.WriteStartArray("merges");
            foreach ((string left, string right) in merges)
            {
                if (stringMerges)
                {
                    w.WriteStringValue(left + " " + right);
                }
                else
                {
                    w.WriteStartArray();
                    w.WriteStringValue(left);
                    w.WriteStringValue(right);
                    w.WriteEndArray();
                }
            }

            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndObject();
        }

        return buffer.ToArray();
    }

    private static byte[] TokenizerConfigBytes(SentencePieceBpeTokenizer tokenizer, string[] pieces, SortedDictionary<int, bool> added, int modelMaxLength, SentencePieceJsonOptions options)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, WriterOptions))
        {
            w.WriteStartObject();
            w.WriteBoolean("add_bos_token", options.AddBos);
            w.WriteBoolean("add_eos_token", options.AddEos);
            w.WriteStartObject("added_tokens_decoder");
            foreach ((int id, bool special) in added)
            {
                w.WritePropertyName(id.ToString(System.Globalization.CultureInfo.InvariantCulture));
                WriteAddedToken(w, id, pieces[id], includeId: false, special);
            }

            w.WriteEndObject();
            w.WriteString("bos_token", pieces[tokenizer.BosId]);
            if (options.ChatTemplate is not null)
            {
                w.WriteString("chat_template", options.ChatTemplate);
            }

            w.WriteBoolean("clean_up_tokenization_spaces", false);
            w.WriteString("eos_token", pieces[tokenizer.EosId]);
            w.WriteBoolean("legacy", true);
            w.WriteNumber("model_max_length", modelMaxLength);
            if (options.PadId is int pad)
            {
                w.WriteString("pad_token", pieces[pad]);
            }
            else
            {
                w.WriteNull("pad_token");
            }

            w.WriteStartObject("sp_model_kwargs");
            w.WriteEndObject();
            w.WriteBoolean("spaces_between_special_tokens", false);
            w.WriteString("tokenizer_class", "LlamaTokenizer");
            w.WriteString("unk_token", pieces[tokenizer.UnkId]);
            w.WriteBoolean("use_default_system_prompt", false);
            w.WriteEndObject();
        }

        return buffer.ToArray();
    }

    /// <summary>One entry of <c>added_tokens</c> (with its id) or of <c>added_tokens_decoder</c> (without).</summary>
    internal static void WriteAddedToken(Utf8JsonWriter w, int id, string content, bool includeId, bool special)
    {
        w.WriteStartObject();
        if (includeId)
        {
            w.WriteNumber("id", id);
        }

        w.WriteString("content", content);
        w.WriteBoolean("single_word", false);
        w.WriteBoolean("lstrip", false);
        w.WriteBoolean("rstrip", false);
        w.WriteBoolean("normalized", false);
        w.WriteBoolean("special", special);
        w.WriteEndObject();
    }

    private static void WriteReplace(Utf8JsonWriter w, string from, string to)
    {
        w.WriteStartObject();
        w.WriteString("type", "Replace");
        w.WriteStartObject("pattern");
        w.WriteString("String", from);
        w.WriteEndObject();
        w.WriteString("content", to);
        w.WriteEndObject();
    }

    /// <summary>One item of a TemplateProcessing template: <c>{"SpecialToken"|"Sequence": {"id", "type_id"}}</c>.</summary>
    internal static void WriteTemplateItem(Utf8JsonWriter w, string kind, string id, int typeId)
    {
        w.WriteStartObject();
        w.WriteStartObject(kind);
        w.WriteString("id", id);
        w.WriteNumber("type_id", typeId);
        w.WriteEndObject();
        w.WriteEndObject();
    }
}
