using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

namespace LlmAspire.Inference.Tokenization;

/// <summary>
/// The BPE model of a Hugging Face <c>tokenizer.json</c>: a word's characters become vocabulary ids (or, with byte
/// fallback, their UTF-8 bytes as <c>&lt;0xXX&gt;</c> tokens, or the unknown token), then the adjacent pair with the
/// lowest merge rank is merged, leftmost first, until no pair has a merge — exactly the order of Hugging Face's
/// <c>tokenizers</c>. A binary heap with lazy invalidation over a linked list makes a word of n symbols O(n log n);
/// results for words up to <see cref="MaxCachedWordLength"/> characters are cached.
/// </summary>
internal sealed class BpeModel
{
    /// <summary>Longer words are not cached (a CJK paragraph or a long run without spaces is one word).</summary>
    public const int MaxCachedWordLength = 64;

    private const int MaxCacheEntries = 100_000;

    private readonly Dictionary<string, int> _vocab;
    private readonly Dictionary<long, Merge> _merges;
    private readonly Dictionary<int, int> _runeIds = [];
    private readonly int[]? _byteFallbackIds;
    private readonly ConcurrentDictionary<string, int[]> _cache = new(StringComparer.Ordinal);

    [ThreadStatic]
    private static PriorityQueue<Candidate, long>? _threadQueue;

    public BpeModel(Dictionary<string, int> vocab, IEnumerable<(string Left, string Right)> merges, string? unkToken, bool byteFallback, bool fuseUnknown, bool ignoreMerges)
    {
        ArgumentNullException.ThrowIfNull(vocab);
        ArgumentNullException.ThrowIfNull(merges);
        _vocab = vocab;
        FuseUnknown = fuseUnknown;
        IgnoreMerges = ignoreMerges;
        UnknownId = unkToken is not null && vocab.TryGetValue(unkToken, out int unk) ? unk : -1;

        foreach ((string piece, int id) in vocab)
        {
            if (piece.Length > 0 && Rune.DecodeFromUtf16(piece, out Rune rune, out int consumed) == OperationStatus.Done && consumed == piece.Length)
            {
                _runeIds[rune.Value] = id;
            }
        }

        if (byteFallback)
        {
            _byteFallbackIds = new int[256];
            for (int b = 0; b < 256; b++)
            {
                _byteFallbackIds[b] = vocab.TryGetValue(ByteFallbackName(b), out int id) ? id : -1;
            }
        }

        _merges = [];
        int rank = 0;
        foreach ((string left, string right) in merges)
        {
            if (!vocab.TryGetValue(left, out int leftId) || !vocab.TryGetValue(right, out int rightId))
            {
                throw new InvalidDataException($"The merge '{left} {right}' names a piece that is not in the vocabulary.");
            }

            if (!vocab.TryGetValue(left + right, out int mergedId))
            {
                throw new InvalidDataException($"The merge '{left} {right}' makes '{left + right}', which is not in the vocabulary.");
            }

            // The first occurrence of a pair wins, as in Hugging Face's loader.
            _merges.TryAdd(Key(leftId, rightId), new Merge(rank, mergedId));
            rank++;
        }

        MergeCount = rank;
    }

    /// <summary>The unknown token's id, or -1.</summary>
    public int UnknownId { get; }

    /// <summary>Consecutive unknown characters become one unknown token.</summary>
    public bool FuseUnknown { get; }

    /// <summary>A word that is itself in the vocabulary is taken whole, without merging (Llama 3).</summary>
    public bool IgnoreMerges { get; }

    /// <summary>Whether characters outside the vocabulary fall back to <c>&lt;0xXX&gt;</c> byte tokens.</summary>
    public bool ByteFallback => _byteFallbackIds is not null;

    /// <summary>Number of merges read.</summary>
    public int MergeCount { get; }

    /// <summary>The piece → id vocabulary.</summary>
    public IReadOnlyDictionary<string, int> Vocabulary => _vocab;

    /// <summary>The byte-fallback token name for <paramref name="value"/>: <c>&lt;0x0A&gt;</c>.</summary>
    public static string ByteFallbackName(int value) => string.Create(CultureInfo.InvariantCulture, $"<0x{value:X2}>");

    /// <summary>Appends the ids of one pre-tokenized word to <paramref name="output"/>.</summary>
    public void EncodeWord(string word, List<int> output)
    {
        if (word.Length == 0)
        {
            return;
        }

        if (word.Length <= MaxCachedWordLength && _cache.TryGetValue(word, out int[]? cached))
        {
            output.AddRange(cached);
            return;
        }

        int[] ids = EncodeUncached(word);
        if (word.Length <= MaxCachedWordLength && _cache.Count < MaxCacheEntries)
        {
            _cache.TryAdd(word, ids);
        }

        output.AddRange(ids);
    }

    private int[] EncodeUncached(string word)
    {
        if (IgnoreMerges && _vocab.TryGetValue(word, out int whole))
        {
            return [whole];
        }

        List<int> symbols = Symbols(word);
        return symbols.Count <= 1 ? [.. symbols] : MergeAll(symbols);
    }

    private List<int> Symbols(string word)
    {
        var symbols = new List<int>(word.Length);
        bool pendingUnknown = false;
        Span<byte> utf8 = stackalloc byte[4];
        foreach (Rune rune in word.EnumerateRunes())
        {
            if (_runeIds.TryGetValue(rune.Value, out int id))
            {
                FlushUnknown();
                symbols.Add(id);
                continue;
            }

            if (_byteFallbackIds is not null)
            {
                int n = rune.EncodeToUtf8(utf8);
                bool all = true;
                for (int i = 0; i < n; i++)
                {
                    all &= _byteFallbackIds[utf8[i]] >= 0;
                }

                if (all)
                {
                    FlushUnknown();
                    for (int i = 0; i < n; i++)
                    {
                        symbols.Add(_byteFallbackIds[utf8[i]]);
                    }

                    continue;
                }
            }

            if (UnknownId >= 0)
            {
                if (pendingUnknown && !FuseUnknown)
                {
                    symbols.Add(UnknownId);
                }

                pendingUnknown = true;
            }

            // Without an unknown token the character is dropped, as Hugging Face does.
        }

        FlushUnknown();
        return symbols;

        void FlushUnknown()
        {
            if (pendingUnknown)
            {
                symbols.Add(UnknownId);
                pendingUnknown = false;
            }
        }
    }

    private int[] MergeAll(List<int> symbols)
    {
        int n = symbols.Count;
        int[] ids = [.. symbols];
        int[] prev = new int[n];
        int[] next = new int[n];
        for (int i = 0; i < n; i++)
        {
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }

        PriorityQueue<Candidate, long> queue = _threadQueue ??= new PriorityQueue<Candidate, long>();
        queue.Clear();
        for (int i = 0; i < n - 1; i++)
        {
            Offer(i);
        }

        int alive = n;
        while (alive > 1 && queue.TryDequeue(out Candidate top, out _))
        {
            int left = top.Position;
            int right = next[left];
            if (ids[left] != top.LeftId || right < 0 || ids[right] != top.RightId)
            {
                continue; // stale: a side merged since this pair was offered
            }

            ids[left] = top.MergedId;
            ids[right] = -1;
            next[left] = next[right];
            if (next[right] >= 0)
            {
                prev[next[right]] = left;
            }

            alive--;
            if (prev[left] >= 0)
            {
                Offer(prev[left]);
            }

            if (next[left] >= 0)
            {
                Offer(left);
            }
        }

        queue.Clear();
        int[] result = new int[alive];
        int k = 0;
        for (int i = 0; i >= 0; i = next[i])
        {
            result[k++] = ids[i];
        }

        return result;

        void Offer(int left)
        {
            int right = next[left];
            if (_merges.TryGetValue(Key(ids[left], ids[right]), out Merge merge))
            {
                // Lowest rank first, then leftmost: Hugging Face's (rank, pos) order.
                queue.Enqueue(new Candidate(left, ids[left], ids[right], merge.MergedId), ((long)merge.Rank << 32) | (uint)left);
            }
        }
    }

    private static long Key(int left, int right) => ((long)left << 32) | (uint)right;

    private readonly record struct Merge(int Rank, int MergedId);

    private readonly record struct Candidate(int Position, int LeftId, int RightId, int MergedId);
}
