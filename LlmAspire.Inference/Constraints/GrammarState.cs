namespace LlmAspire.Inference.Constraints;

/// <summary>
/// Where a parse can be after some bytes: the stacks whose top node has byte edges to take next, and whether the
/// root rule can have ended here (the output is complete). No stacks and not complete: the bytes do not match.
/// </summary>
internal sealed class GrammarState(GrammarFrame[] stacks, bool complete)
{
    /// <summary>A state that nothing continues.</summary>
    public static GrammarState Dead { get; } = new([], false);

    /// <summary>The live stacks, each positioned at a node with byte edges.</summary>
    public GrammarFrame[] Stacks { get; } = stacks;

    /// <summary>The root rule can have ended exactly here.</summary>
    public bool Complete { get; } = complete;

    /// <summary>Neither a stack to continue nor complete.</summary>
    public bool IsDead => Stacks.Length == 0 && !Complete;
}
