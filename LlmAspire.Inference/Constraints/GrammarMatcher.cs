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
            CompiledGrammar.NodeMask node = _grammar.MaskOf(frame.Node);
            ulong[] accepted = node.Accepted;
            for (int w = 0; w < accepted.Length; w++)
            {
                mask[w] |= accepted[w];
            }

            if (node.ContextDependent.Length == 0)
            {
                continue;
            }

            GrammarState alone = GrammarAutomaton.Positioned(frame);
            foreach (int id in node.ContextDependent)
            {
                if ((mask[id >> 6] & (1UL << (id & 63))) == 0 && !_automaton.Step(alone, v.TokenBytes[id]).IsDead)
                {
                    mask[id >> 6] |= 1UL << (id & 63);
                }
            }
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
        for (int id = 0; id < n; id++)
        {
            if ((mask[id >> 6] & (1UL << (id & 63))) == 0)
            {
                logits[id] = float.NegativeInfinity;
            }
        }

        for (int id = n; id < logits.Length; id++)
        {
            logits[id] = float.NegativeInfinity;
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
