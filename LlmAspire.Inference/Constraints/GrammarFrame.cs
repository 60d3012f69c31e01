namespace LlmAspire.Inference.Constraints;

/// <summary>
/// One parse stack of the pushdown automaton, as an immutable linked list: the node the parse is at and the frames
/// to return to. Equal stacks compare equal, so a state never holds the same stack twice.
/// </summary>
internal sealed class GrammarFrame : IEquatable<GrammarFrame>
{
    private readonly int _hash;

    public GrammarFrame(int node, GrammarFrame? parent)
    {
        Node = node;
        Parent = parent;
        _hash = HashCode.Combine(node, parent?._hash ?? 0);
    }

    /// <summary>The automaton node.</summary>
    public int Node { get; }

    /// <summary>Where the rule this node belongs to returns; null at the bottom.</summary>
    public GrammarFrame? Parent { get; }

    public bool Equals(GrammarFrame? other)
    {
        GrammarFrame? a = this, b = other;
        while (a is not null && b is not null)
        {
            if (ReferenceEquals(a, b))
            {
                return true;
            }

            if (a._hash != b._hash || a.Node != b.Node)
            {
                return false;
            }

            a = a.Parent;
            b = b.Parent;
        }

        return a is null && b is null;
    }

    public override bool Equals(object? obj) => Equals(obj as GrammarFrame);

    public override int GetHashCode() => _hash;
}
