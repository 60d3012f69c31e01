namespace LlmAspire.Inference.Constraints;

/// <summary>
/// One sequence's place in a <see cref="CompiledGrammar"/>: which tokens may come next (as a bit mask or applied to
/// logits) and advancing by the token chosen. End-of-sequence is allowed exactly when the output so far is complete.
/// Not thread-safe; one per sequence.
/// </summary>
public sealed class GrammarMatcher
{
    private readonly CompiledGrammar _grammar;
    private readonly GrammarAutomaton _automaton;
    private GrammarState _state;

    internal GrammarMatcher(CompiledGrammar grammar)
    {
        _grammar = grammar;
        _automaton = grammar.Automaton;
        _state = _automaton.Start;
    }

    /// <summary>The output so far is a whole sentence of the grammar: end-of-sequence is allowed.</summary>
    public bool IsComplete => _state.Complete;

    /// <summary>Nothing but end-of-sequence can follow: the output is complete and cannot grow.</summary>
    public bool IsTerminated => _state.Stacks.Length == 0;

    /// <summary>Tokens accepted so far.</summary>
    public int TokensAccepted { get; private set; }

    /// <summary>Sets the bits of the tokens that may come next (clearing the others); words of 64 ids.</summary>
    public void FillMask(Span<ulong> mask)
    {
        TokenVocabulary v = _grammar.Vocabulary;
        if (mask.Length < v.MaskWords)
        {
            throw new ArgumentException($"The mask needs {v.MaskWords} words.", nameof(mask));
        }

        mask.Clear();
        foreach (GrammarFrame frame in _state.Stacks)
        {
            Or(mask, _grammar.FrameMask(frame));
        }

        if (_state.Complete)
        {
            foreach (int end in v.EndIds)
            {
                mask[end >> 6] |= 1UL << (end & 63);
            }
        }
    }

    /// <summary>Sets the logits of every token that may not come next to negative infinity.</summary>
    public void MaskLogits(Span<float> logits)
    {
        TokenVocabulary v = _grammar.Vocabulary;
        Span<ulong> mask = v.MaskWords <= 2048 ? stackalloc ulong[v.MaskWords] : new ulong[v.MaskWords];
        FillMask(mask);
        int n = Math.Min(logits.Length, v.Size);
        for (int w = 0; w * 64 < n; w++)
        {
            ulong bits = mask[w];
            if (bits == ulong.MaxValue)
            {
                continue;
            }

            int start = w * 64, end = Math.Min(start + 64, n);
            if (bits == 0)
            {
                logits[start..end].Fill(float.NegativeInfinity);
                continue;
            }

            for (int id = start; id < end; id++)
            {
                if ((bits & (1UL << (id - start))) == 0)
                {
                    logits[id] = float.NegativeInfinity;
                }
            }
        }

        logits[n..].Fill(float.NegativeInfinity);
    }

    private static void Or(Span<ulong> into, ReadOnlySpan<ulong> from)
    {
        int i = 0;
        if (System.Numerics.Vector.IsHardwareAccelerated)
        {
            Span<System.Numerics.Vector<ulong>> a = System.Runtime.InteropServices.MemoryMarshal.Cast<ulong, System.Numerics.Vector<ulong>>(into[..from.Length]);
            ReadOnlySpan<System.Numerics.Vector<ulong>> b = System.Runtime.InteropServices.MemoryMarshal.Cast<ulong, System.Numerics.Vector<ulong>>(from);
            for (int k = 0; k < b.Length; k++)
            {
                a[k] |= b[k];
            }

            i = b.Length * System.Numerics.Vector<ulong>.Count;
        }

        for (; i < from.Length; i++)
        {
            into[i] |= from[i];
        }
    }

    /// <summary>True when <paramref name="tokenId"/> may come next.</summary>
    public bool Allows(int tokenId)
    {
        TokenVocabulary v = _grammar.Vocabulary;
        if (v.IsEnd(tokenId))
        {
            return _state.Complete;
        }

        return (uint)tokenId < (uint)v.Size && v.TokenBytes[tokenId] is { } bytes && !_automaton.Step(_state, bytes).IsDead;
    }

    /// <summary>
    /// Advances by <paramref name="tokenId"/>; false (and no change) when the grammar does not allow it.
    /// End-of-sequence is accepted when the output is complete and leaves the matcher terminated.
    /// </summary>
    public bool Accept(int tokenId)
    {
        TokenVocabulary v = _grammar.Vocabulary;
        if (v.IsEnd(tokenId))
        {
            if (!_state.Complete)
            {
                return false;
            }

            _state = new GrammarState([], complete: true);
            TokensAccepted++;
            return true;
        }

        if ((uint)tokenId >= (uint)v.Size || v.TokenBytes[tokenId] is not { } bytes)
        {
            return false;
        }

        GrammarState next = _automaton.Step(_state, bytes);
        if (next.IsDead)
        {
            return false;
        }

        _state = next;
        TokensAccepted++;
        return true;
    }
}
