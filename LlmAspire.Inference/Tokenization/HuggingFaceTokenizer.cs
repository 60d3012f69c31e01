using System.Text;

namespace LlmAspire.Inference.Tokenization;

/// <summary>
/// A tokenizer loaded from a Hugging Face <c>tokenizer.json</c> by <see cref="TokenizerJson"/>: added tokens are split
/// out of the text first (never merged), each stretch between them is normalized, pre-tokenized and BPE-encoded.
/// Thread-safe; word results are cached.
/// </summary>
public sealed class HuggingFaceTokenizer : ITokenizer
{
    private const char Metaspace = '▁';

    private readonly BpeModel _bpe;
    private readonly TextNormalizer _normalizer;
    private readonly PreTokenizer _preTokenizer;
    private readonly TokenDecoder _decoder;
    private readonly AddedTokenSplitter _splitter;
    private readonly string?[] _tokens;
    private readonly byte[][] _bytes;
    private readonly Dictionary<string, int> _ids;
    private readonly int[] _prefix;
    private readonly int[] _suffix;
    private readonly bool _splitWordsAtMetaspace;

    internal HuggingFaceTokenizer(
        BpeModel bpe,
        IReadOnlyList<AddedToken> addedTokens,
        TextNormalizer normalizer,
        PreTokenizer preTokenizer,
        TokenDecoder decoder,
        PostProcessorTokens post,
        TokenizerConfig config,
        int? bosId,
        int? eosId)
    {
        _bpe = bpe;
        _normalizer = normalizer;
        _preTokenizer = preTokenizer;
        _decoder = decoder;
        Config = config;
        AddedTokens = addedTokens;
        _splitter = new AddedTokenSplitter(addedTokens);

        int size = 0;
        foreach (int id in bpe.Vocabulary.Values)
        {
            size = Math.Max(size, id + 1);
        }

        foreach (AddedToken token in addedTokens)
        {
            size = Math.Max(size, token.Id + 1);
        }

        VocabularySize = size;
        _tokens = new string?[size];
        _ids = new Dictionary<string, int>(bpe.Vocabulary.Count + addedTokens.Count, StringComparer.Ordinal);
        foreach ((string piece, int id) in bpe.Vocabulary)
        {
            _tokens[id] = piece;
            _ids[piece] = id;
        }

        foreach (AddedToken token in addedTokens)
        {
            _tokens[token.Id] = token.Content;
            _ids[token.Content] = token.Id;
        }

        UnkId = bpe.UnknownId;
        BosId = bosId ?? Resolve(config.BosToken) ?? Resolve(post.PrefixName) ?? -1;
        EosId = eosId ?? Resolve(config.EosToken) ?? -1;

        _prefix = config.AddBosToken switch
        {
            true => BosId >= 0 ? [BosId] : [],
            false => [],
            null => [.. post.Prefix],
        };
        _suffix = config.AddEosToken switch
        {
            true => EosId >= 0 ? [EosId] : [],
            false => [],
            null => [.. post.Suffix],
        };

        var special = new bool[size];
        foreach (AddedToken token in addedTokens)
        {
            special[token.Id] = token.Special;
        }

        foreach (int id in new[] { BosId, EosId })
        {
            if (id >= 0 && id < size)
            {
                special[id] = true;
            }
        }

        // Special tokens decode to nothing: Hugging Face tokenizers' decode with skip_special_tokens=True, as servers
        // use it. That includes Llama's <unk> (special in its added_tokens): without skipping, Hugging Face would write
        // the text "<unk>" (and SentencePiece's own decoder " ⁇ ").
        var addedById = addedTokens.ToDictionary(t => t.Id);
        _bytes = new byte[size][];
        for (int id = 0; id < size; id++)
        {
            _bytes[id] = special[id] || _tokens[id] is null ? []
                : addedById.TryGetValue(id, out AddedToken? added) ? Encoding.UTF8.GetBytes(added.Content)
                : _decoder.PieceBytes(_tokens[id]!);
        }

        _splitWordsAtMetaspace = !preTokenizer.IsByteLevel && !bpe.IgnoreMerges && CanSplitAtMetaspace(bpe.Vocabulary.Keys);
    }

    /// <inheritdoc />
    public int VocabularySize { get; }

    /// <inheritdoc />
    public int BosId { get; }

    /// <inheritdoc />
    public int EosId { get; }

    /// <summary>The unknown token's id, or -1.</summary>
    public int UnkId { get; }

    /// <summary>Whether encoding with <c>addBos</c> puts BOS first (tokenizer_config's add_bos_token, else the post-processor).</summary>
    public bool AddsBos => _prefix.Length > 0;

    /// <summary>Whether encoding with <c>addBos</c> puts EOS last (add_eos_token, else the post-processor).</summary>
    public bool AddsEos => _suffix.Length > 0;

    /// <summary>Whether this is a byte-level BPE (GPT-2 alphabet) rather than a SentencePiece-style one.</summary>
    public bool IsByteLevel => _decoder.ByteLevel;

    /// <summary>The added tokens (special and not).</summary>
    public IReadOnlyList<AddedToken> AddedTokens { get; }

    /// <summary>The tokenizer_config.json it was loaded with.</summary>
    public TokenizerConfig Config { get; }

    /// <summary>The token's text as the vocabulary spells it, or null for an unused id.</summary>
    public string? IdToToken(int id) => id >= 0 && id < _tokens.Length ? _tokens[id] : null;

    /// <inheritdoc />
    public bool TryGetTokenId(string token, out int id)
    {
        ArgumentNullException.ThrowIfNull(token);
        if (_ids.TryGetValue(token, out id))
        {
            return true;
        }

        id = -1;
        return false;
    }

    /// <inheritdoc />
    public ReadOnlySpan<byte> TokenBytes(int id)
    {
        if ((uint)id >= (uint)_bytes.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(id), id, "Token id outside the vocabulary.");
        }

        return _bytes[id];
    }

    /// <inheritdoc />
    public int[] Encode(string text, bool addBos) => Encode(text, addBos, int.MaxValue - 1);

    /// <inheritdoc />
    public int[] Encode(string text, bool addBos, int maxTokens)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentOutOfRangeException.ThrowIfNegative(maxTokens);
        var ids = new List<int>(Math.Min(text.Length / 3 + 4, 1 << 16));
        if (addBos)
        {
            ids.AddRange(_prefix);
        }

        foreach (AddedTokenSplitter.Segment segment in _splitter.Split(text))
        {
            if (ids.Count > maxTokens)
            {
                break;
            }

            if (segment.TokenId >= 0)
            {
                ids.Add(segment.TokenId);
            }
            else
            {
                EncodeText(segment.Text, segment.Start == 0, ids, maxTokens);
            }
        }

        if (addBos && ids.Count <= maxTokens)
        {
            ids.AddRange(_suffix);
        }

        return ids.Count > maxTokens ? ids.GetRange(0, maxTokens + 1).ToArray() : [.. ids];
    }

    /// <inheritdoc />
    public string Decode(IEnumerable<int> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var bytes = new List<byte>();
        foreach (int id in ids)
        {
            bytes.AddRange(TokenBytes(id));
        }

        return _decoder.Finish(Encoding.UTF8.GetString([.. bytes]));
    }

    private void EncodeText(string text, bool atStart, List<int> ids, int maxTokens)
    {
        string normalized = _normalizer.Apply(text);
        if (normalized.Length == 0)
        {
            return;
        }

        foreach (PreTokenizer.Piece piece in _preTokenizer.IsEmpty ? [new PreTokenizer.Piece(normalized, atStart)] : _preTokenizer.Split(normalized, atStart))
        {
            if (!_splitWordsAtMetaspace)
            {
                _bpe.EncodeWord(piece.Text, ids);
            }
            else
            {
                // No vocabulary piece crosses from a character into a following "▁", so each "▁word" encodes alone.
                string word = piece.Text;
                int start = 0;
                for (int i = 1; i < word.Length; i++)
                {
                    if (word[i] == Metaspace && word[i - 1] != Metaspace)
                    {
                        _bpe.EncodeWord(word[start..i], ids);
                        start = i;
                        if (ids.Count > maxTokens)
                        {
                            return;
                        }
                    }
                }

                _bpe.EncodeWord(start == 0 ? word : word[start..], ids);
            }

            if (ids.Count > maxTokens)
            {
                return;
            }
        }
    }

    private int? Resolve(string? token) => token is not null && _ids.TryGetValue(token, out int id) ? id : null;

    private static bool CanSplitAtMetaspace(IEnumerable<string> pieces)
    {
        bool hasMetaspace = false;
        foreach (string piece in pieces)
        {
            for (int i = 0; i < piece.Length; i++)
            {
                if (piece[i] == Metaspace)
                {
                    if (i > 0 && piece[i - 1] != Metaspace)
                    {
                        return false;
                    }

                    hasMetaspace |= piece.Length == 1;
                }
            }
        }

        return hasMetaspace;
    }
}
