using System.Runtime.CompilerServices;
using LlmAspire.Inference.Tokenization;

namespace LlmAspire.Inference.Constraints;

/// <summary>
/// A model's tokens as byte strings, sorted so that tokens sharing a prefix are neighbours (a trie laid flat): the
/// mask builder walks it once per automaton node and skips every token under a prefix the grammar refuses.
/// Special tokens (no bytes) are never allowed by a grammar; the end tokens (end-of-sequence, a chat model's
/// end-of-turn) are allowed exactly when the output is complete. Built once per tokenizer.
/// </summary>
public sealed class TokenVocabulary
{
    private static readonly ConditionalWeakTable<ITokenizer, TokenVocabulary> Cache = [];

    private TokenVocabulary(ITokenizer tokenizer, IEnumerable<int> endIds)
    {
        Size = tokenizer.VocabularySize;
        EndIds = [.. endIds.Where(id => (uint)id < (uint)Size).Distinct().Order()];
        var ends = new HashSet<int>(EndIds);
        var tokens = new List<(byte[] Bytes, int Id)>();
        for (int id = 0; id < Size; id++)
        {
            ReadOnlySpan<byte> bytes = tokenizer.TokenBytes(id);
            if (bytes.Length > 0 && !ends.Contains(id))
            {
                tokens.Add((bytes.ToArray(), id));
            }
        }

        tokens.Sort((a, b) => a.Bytes.AsSpan().SequenceCompareTo(b.Bytes));
        Bytes = [.. tokens.Select(t => t.Bytes)];
        Ids = [.. tokens.Select(t => t.Id)];
        CommonPrefix = new int[Bytes.Length];
        for (int i = 1; i < Bytes.Length; i++)
        {
            CommonPrefix[i] = Bytes[i].AsSpan().CommonPrefixLength(Bytes[i - 1]);
        }

        MaxTokenBytes = Bytes.Length == 0 ? 1 : Bytes.Max(b => b.Length);
        TokenBytes = new byte[Size][];
        for (int i = 0; i < Ids.Length; i++)
        {
            TokenBytes[Ids[i]] = Bytes[i];
        }
    }

    /// <summary>Ids in the vocabulary (the size of a mask).</summary>
    public int Size { get; }

    /// <summary>The ids that end the output (allowed when it is complete).</summary>
    public IReadOnlyList<int> EndIds { get; }

    /// <summary>The longest token, in bytes.</summary>
    public int MaxTokenBytes { get; }

    /// <summary>Tokens with bytes, in byte order.</summary>
    internal byte[][] Bytes { get; }

    /// <summary>The id of each token of <see cref="Bytes"/>.</summary>
    internal int[] Ids { get; }

    /// <summary>Bytes each token of <see cref="Bytes"/> shares with the one before it.</summary>
    internal int[] CommonPrefix { get; }

    /// <summary>Bytes by id; null for special tokens and end tokens.</summary>
    internal byte[]?[] TokenBytes { get; }

    /// <summary>Words (64 ids each) of a mask.</summary>
    public int MaskWords => (Size + 63) / 64;

    /// <summary>
    /// The vocabulary of <paramref name="tokenizer"/>, built on first use; <paramref name="endIds"/> (default: the
    /// tokenizer's end-of-sequence) end the output. A tokenizer's first call fixes its end ids.
    /// </summary>
    public static TokenVocabulary For(ITokenizer tokenizer, IEnumerable<int>? endIds = null)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        return Cache.GetValue(tokenizer, t => new TokenVocabulary(t, endIds ?? [t.EosId]));
    }

    /// <summary>True when <paramref name="id"/> is one of <see cref="EndIds"/>.</summary>
    public bool IsEnd(int id)
    {
        foreach (int end in EndIds)
        {
            if (end == id)
            {
                return true;
            }
        }

        return false;
    }
}
