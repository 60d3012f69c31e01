using System.Globalization;
using System.Text;

namespace LlmAspire.Inference.Tokenization;

/// <summary>
/// SentencePiece-style BPE as llama2.c runs it: a dummy-prefix space, single characters, then repeated merges of the
/// adjacent pair whose concatenation is in the vocabulary with the highest score (leftmost on ties). A character outside
/// the vocabulary becomes its UTF-8 byte tokens <c>&lt;0xXX&gt;</c> when the vocabulary has them (byte fallback, as in
/// Llama 2 and stories260K's tok512); otherwise it becomes the unknown token, a run of them one unknown token, as
/// SentencePiece without byte fallback (and Hugging Face's BPE with <c>fuse_unk</c>) encodes it.
/// </summary>
public sealed class SentencePieceBpeTokenizer : ITokenizer
{
    private readonly string[] _pieces;
    private readonly float[] _scores;
    private readonly byte[][] _bytes;
    private readonly Dictionary<string, int> _ids;

    // The symbol of an unknown character during merging: a string no vocabulary piece is (compared by reference).
    private static readonly string UnknownSymbol = new(['\uFFFF', 'u', 'n', 'k']);

    /// <summary>Creates a tokenizer from its vocabulary: pieces (a space stands for "▁") and merge scores.</summary>
    public SentencePieceBpeTokenizer(IReadOnlyList<string> pieces, IReadOnlyList<float> scores, int unkId = 0, int bosId = 1, int eosId = 2)
    {
        ArgumentNullException.ThrowIfNull(pieces);
        ArgumentNullException.ThrowIfNull(scores);
        if (pieces.Count != scores.Count || pieces.Count == 0)
        {
            throw new ArgumentException("Pieces and scores must be non-empty and of the same length.", nameof(scores));
        }

        _pieces = [.. pieces];
        _scores = [.. scores];
        _ids = new Dictionary<string, int>(_pieces.Length, StringComparer.Ordinal);
        _bytes = new byte[_pieces.Length][];
        for (int id = 0; id < _pieces.Length; id++)
        {
            _ids.TryAdd(_pieces[id], id);
            _bytes[id] = PieceBytes(_pieces[id]);
        }

        UnkId = unkId;
        BosId = bosId;
        EosId = eosId;
        // Control tokens decode to nothing. For <unk> that is Hugging Face tokenizers' decode with
        // skip_special_tokens=True (what servers return; without it the piece would read "<unk>", and SentencePiece's
        // own decoder writes " ⁇ "): every ITokenizer drops special tokens when decoding.
        foreach (int special in new[] { unkId, bosId, eosId })
        {
            _bytes[special] = [];
        }

        int byteTokens = Enumerable.Range(0, 256).Count(b => _ids.ContainsKey(ByteTokenName(b)));
        if (byteTokens is not 0 and not 256)
        {
            int missing = Enumerable.Range(0, 256).First(b => !_ids.ContainsKey(ByteTokenName(b)));
            throw new InvalidDataException(
                $"The vocabulary has {byteTokens} of the 256 byte-fallback tokens <0x00>..<0xFF> (it lacks {ByteTokenName(missing)}); a SentencePiece vocabulary has all of them or none.");
        }

        HasByteFallback = byteTokens == 256;
    }

    /// <inheritdoc />
    public int VocabularySize => _pieces.Length;

    /// <summary>Unknown-token id.</summary>
    public int UnkId { get; }

    /// <summary>
    /// Whether the vocabulary has the 256 byte tokens <c>&lt;0x00&gt;</c>..<c>&lt;0xFF&gt;</c>, so that characters
    /// outside it become their UTF-8 bytes; without them they become <see cref="UnkId"/>.
    /// </summary>
    public bool HasByteFallback { get; }

    /// <inheritdoc />
    public int BosId { get; }

    /// <inheritdoc />
    public int EosId { get; }

    /// <summary>The vocabulary pieces, indexed by id.</summary>
    public IReadOnlyList<string> Pieces => _pieces;

    /// <summary>The merge scores, indexed by id.</summary>
    public IReadOnlyList<float> Scores => _scores;

    /// <summary>Reads a llama2.c <c>tokenizer.bin</c>.</summary>
    public static SentencePieceBpeTokenizer ReadLlama2c(string path, int vocabSize)
    {
        using FileStream stream = File.OpenRead(path);
        using var reader = new BinaryReader(stream);
        var pieces = new string[vocabSize];
        var scores = new float[vocabSize];
        int i = 0;
        try
        {
            reader.ReadInt32(); // max_token_length
            for (; i < vocabSize; i++)
            {
                scores[i] = reader.ReadSingle();
                int length = reader.ReadInt32();
                if (length < 0 || length > 1024)
                {
                    throw new InvalidDataException($"{path}: token {i} has an invalid length {length}; this is not a llama2.c tokenizer.bin.");
                }

                byte[] bytes = reader.ReadBytes(length);
                if (bytes.Length != length)
                {
                    throw new EndOfStreamException();
                }

                pieces[i] = Encoding.UTF8.GetString(bytes);
            }
        }
        catch (EndOfStreamException)
        {
            throw new InvalidDataException(
                $"{path}: the tokenizer file ends after {i} of {vocabSize} tokens (the checkpoint's vocab_size); pass the tokenizer.bin the checkpoint was trained with.");
        }

        try
        {
            return new SentencePieceBpeTokenizer(pieces, scores);
        }
        catch (InvalidDataException ex)
        {
            throw new InvalidDataException($"{path}: {ex.Message}", ex);
        }
    }

    /// <summary>Writes the vocabulary as a llama2.c <c>tokenizer.bin</c>.</summary>
    public void WriteLlama2c(string path)
    {
        using FileStream stream = File.Create(path);
        using var writer = new BinaryWriter(stream);
        byte[][] encoded = [.. _pieces.Select(Encoding.UTF8.GetBytes)];
        writer.Write(encoded.Max(b => b.Length));
        for (int i = 0; i < _pieces.Length; i++)
        {
            writer.Write(_scores[i]);
            writer.Write(encoded[i].Length);
            writer.Write(encoded[i]);
        }
    }

    /// <inheritdoc />
    public ReadOnlySpan<byte> TokenBytes(int id) => _bytes[id];

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
    public string Decode(IEnumerable<int> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var bytes = new List<byte>();
        foreach (int id in ids)
        {
            if (id < 0 || id >= _bytes.Length)
            {
                throw new ArgumentOutOfRangeException(nameof(ids), id, "Token id outside the vocabulary.");
            }

            bytes.AddRange(_bytes[id]);
        }

        string text = Encoding.UTF8.GetString([.. bytes]);
        // SentencePiece drops the dummy-prefix space that encoding added.
        return text.StartsWith(' ') ? text[1..] : text;
    }

    /// <inheritdoc />
    public int[] Encode(string text, bool addBos)
    {
        ArgumentNullException.ThrowIfNull(text);
        var result = new List<int>(text.Length + 2);
        if (addBos)
        {
            result.Add(BosId);
        }

        if (text.Length == 0)
        {
            return [.. result];
        }

        // Symbols: the dummy prefix, then one per character; an unknown character is its UTF-8 bytes with byte
        // fallback, else an unknown symbol, merged into the one before it when that is unknown too.
        var symbols = new List<string> { " " };
        StringRuneEnumerator runes = text.EnumerateRunes();
        Span<byte> utf8 = stackalloc byte[4];
        foreach (Rune rune in runes)
        {
            string s = rune.ToString();
            if (_ids.ContainsKey(s))
            {
                symbols.Add(s);
            }
            else if (HasByteFallback)
            {
                int n = rune.EncodeToUtf8(utf8);
                for (int i = 0; i < n; i++)
                {
                    symbols.Add(ByteTokenName(utf8[i]));
                }
            }
            else if (!ReferenceEquals(symbols[^1], UnknownSymbol))
            {
                symbols.Add(UnknownSymbol);
            }
        }

        if (!_ids.ContainsKey(" "))
        {
            symbols.RemoveAt(0);
        }

        foreach (string piece in Merge(symbols))
        {
            result.Add(!ReferenceEquals(piece, UnknownSymbol) && _ids.TryGetValue(piece, out int id) ? id : UnkId);
        }

        return [.. result];
    }

    private List<string> Merge(List<string> symbols)
    {
        int n = symbols.Count;
        string[] piece = [.. symbols];
        int[] prev = new int[n];
        int[] next = new int[n];
        for (int i = 0; i < n; i++)
        {
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }

        // Highest score first, leftmost first on ties: exactly llama2.c's scan order.
        var queue = new PriorityQueue<(int Left, string LeftPiece, string RightPiece), (float Score, int Left)>(
            Comparer<(float Score, int Left)>.Create((a, b) => a.Score != b.Score ? b.Score.CompareTo(a.Score) : a.Left.CompareTo(b.Left)));

        void Offer(int left)
        {
            if (left < 0 || next[left] < 0)
            {
                return;
            }

            int right = next[left];
            if (ReferenceEquals(piece[left], UnknownSymbol) || ReferenceEquals(piece[right], UnknownSymbol))
            {
                return; // an unknown character merges with nothing
            }

            if (_ids.TryGetValue(piece[left] + piece[right], out int id))
            {
                queue.Enqueue((left, piece[left], piece[right]), (_scores[id], left));
            }
        }

        for (int i = 0; i < n - 1; i++)
        {
            Offer(i);
        }

        while (queue.TryDequeue(out var candidate, out _))
        {
            int left = candidate.Left;
            int right = next[left];
            if (piece[left] is null || right < 0
                || !ReferenceEquals(piece[left], candidate.LeftPiece) || !ReferenceEquals(piece[right], candidate.RightPiece))
            {
                continue; // stale: one side has merged since this pair was offered
            }

            piece[left] = candidate.LeftPiece + candidate.RightPiece;
            piece[right] = null!;
            next[left] = next[right];
            if (next[right] >= 0)
            {
                prev[next[right]] = left;
            }

            Offer(prev[left]);
            Offer(left);
        }

        var merged = new List<string>();
        for (int i = 0; i >= 0 && i < n; i = next[i])
        {
            merged.Add(piece[i]);
        }

        return merged;
    }

    private static string ByteTokenName(int b) => string.Create(CultureInfo.InvariantCulture, $"<0x{b:X2}>");

    private static byte[] PieceBytes(string piece)
    {
        if (piece.Length == 6 && piece.StartsWith("<0x", StringComparison.Ordinal) && piece[5] == '>'
            && byte.TryParse(piece.AsSpan(3, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out byte value))
        {
            return [value];
        }

        return Encoding.UTF8.GetBytes(piece);
    }
}
