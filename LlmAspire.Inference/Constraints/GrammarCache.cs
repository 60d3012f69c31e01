namespace LlmAspire.Inference.Constraints;

/// <summary>
/// Compiled grammars of one model by the constraint they came from, the least recently used dropped beyond
/// <see cref="Capacity"/>: agents send the same schema and tools again and again, and a grammar's token masks, built
/// on first use, are its real cost. Thread-safe.
/// </summary>
public sealed class GrammarCache(TokenVocabulary vocabulary, int capacity = 64)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<OutputConstraint, LinkedListNode<(OutputConstraint Key, CompiledGrammar Grammar)>> _entries = [];
    private readonly LinkedList<(OutputConstraint Key, CompiledGrammar Grammar)> _order = new();

    /// <summary>The vocabulary grammars are compiled for.</summary>
    public TokenVocabulary Vocabulary { get; } = vocabulary ?? throw new ArgumentNullException(nameof(vocabulary));

    /// <summary>Grammars kept.</summary>
    public int Capacity { get; } = capacity > 0 ? capacity : throw new ArgumentOutOfRangeException(nameof(capacity));

    /// <summary>Grammars held now.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _entries.Count;
            }
        }
    }

    /// <summary>The compiled grammar of <paramref name="constraint"/>; throws <see cref="GrammarException"/> when it does not compile.</summary>
    public CompiledGrammar Get(OutputConstraint constraint)
    {
        ArgumentNullException.ThrowIfNull(constraint);
        lock (_lock)
        {
            if (_entries.TryGetValue(constraint, out var hit))
            {
                _order.Remove(hit);
                _order.AddFirst(hit);
                return hit.Value.Grammar;
            }
        }

        var compiled = new CompiledGrammar(constraint.ToGrammar(), Vocabulary);
        lock (_lock)
        {
            if (_entries.TryGetValue(constraint, out var raced))
            {
                return raced.Value.Grammar;
            }

            _entries[constraint] = _order.AddFirst((constraint, compiled));
            while (_entries.Count > Capacity)
            {
                _entries.Remove(_order.Last!.Value.Key);
                _order.RemoveLast();
            }
        }

        return compiled;
    }
}
