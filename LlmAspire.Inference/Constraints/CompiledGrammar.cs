using System.Collections.Concurrent;

namespace LlmAspire.Inference.Constraints;

/// <summary>
/// A grammar bound to a vocabulary: the automaton and, per automaton node, the tokens it accepts whatever the stack
/// below (a bit mask) and the few whose fate depends on that stack — the ones that finish the node's rule and go on
/// (XGrammar's adaptive token mask cache). The tables fill lazily, node by node, and are shared by every
/// <see cref="GrammarMatcher"/> of the grammar; compile once per schema and reuse.
/// </summary>
public sealed class CompiledGrammar
{
    private readonly ConcurrentDictionary<int, NodeMask> _masks = new();
    private readonly ConcurrentDictionary<GrammarFrame, ulong[]> _frameMasks = new();

    /// <summary>Compiles <paramref name="grammar"/> for <paramref name="vocabulary"/>.</summary>
    public CompiledGrammar(Grammar grammar, TokenVocabulary vocabulary)
    {
        ArgumentNullException.ThrowIfNull(grammar);
        Vocabulary = vocabulary ?? throw new ArgumentNullException(nameof(vocabulary));
        Automaton = new GrammarAutomaton(grammar, vocabulary.MaxTokenBytes + 1);
    }

    /// <summary>The vocabulary the masks are over.</summary>
    public TokenVocabulary Vocabulary { get; }

    /// <summary>Nodes in the automaton.</summary>
    public int NodeCount => Automaton.NodeCount;

    /// <summary>Mask tables built so far.</summary>
    public int MaskTablesBuilt => _masks.Count;

    internal GrammarAutomaton Automaton { get; }

    /// <summary>A matcher at the start of the output.</summary>
    public GrammarMatcher CreateMatcher() => new(this);

    /// <summary>True when the whole of <paramref name="text"/> is in the grammar's language.</summary>
    public bool Matches(string text)
    {
        GrammarState state = Automaton.Step(Automaton.Start, System.Text.Encoding.UTF8.GetBytes(text));
        return state.Complete;
    }

    /// <summary>True when <paramref name="text"/> can be continued into a sentence of the grammar (or is one).</summary>
    public bool IsPrefix(string text) => !Automaton.Step(Automaton.Start, System.Text.Encoding.UTF8.GetBytes(text)).IsDead;

    internal NodeMask MaskOf(int node) => _masks.GetOrAdd(Automaton.Alias[node], Build);

    /// <summary>Stacks whose whole mask is kept (<see cref="FrameMask"/>), about 4 KiB each on a 32k vocabulary.</summary>
    public const int MaxCachedStacks = 4096;

    /// <summary>
    /// The tokens a positioned stack allows: its node's accepted set plus those of the node's context-dependent tokens
    /// the stack below accepts. A pure function of the stack, so it is kept: the same stacks come back token after
    /// token (inside a string, between members), and a kept mask costs one OR per word instead of a walk per token.
    /// </summary>
    internal ulong[] FrameMask(GrammarFrame frame)
    {
        if (_frameMasks.TryGetValue(frame, out ulong[]? cached))
        {
            return cached;
        }

        NodeMask node = MaskOf(frame.Node);
        ulong[] mask = node.Accepted;
        if (node.ContextDependent.Length > 0)
        {
            mask = (ulong[])mask.Clone();
            GrammarState alone = GrammarAutomaton.Positioned(frame);
            foreach (int id in node.ContextDependent)
            {
                if ((mask[id >> 6] & (1UL << (id & 63))) == 0 && !Automaton.Step(alone, Vocabulary.TokenBytes[id]).IsDead)
                {
                    mask[id >> 6] |= 1UL << (id & 63);
                }
            }
        }

        if (_frameMasks.Count < MaxCachedStacks)
        {
            _frameMasks.TryAdd(frame, mask);
        }

        return mask;
    }

    /// <summary>
    /// Walks the sorted vocabulary from the stack [<paramref name="node"/>]: a token is accepted when some path
    /// consumes it within the node's rule or ends the rule exactly at its end; it depends on the context when the
    /// only paths that survive leave the rule with bytes to spare; otherwise it is rejected.
    /// </summary>
    private NodeMask Build(int node)
    {
        TokenVocabulary v = Vocabulary;
        GrammarAutomaton a = Automaton;
        ulong[] accepted = new ulong[v.MaskWords];
        var dependent = new List<int>();
        int maxDepth = v.MaxTokenBytes + 1;
        var states = new GrammarState[maxDepth];
        bool[] leftRule = new bool[maxDepth];
        states[0] = GrammarAutomaton.Positioned(new GrammarFrame(node, null));
        int valid = 0; // states[0..valid] hold the path of the previous token
        byte[][] tokens = v.Bytes;
        int count = tokens.Length;
        int i = 0;
        while (i < count)
        {
            byte[] token = tokens[i];
            int depth = Math.Min(v.CommonPrefix[i], valid);
            int deadAt = -1;
            bool onlyContext = false;
            for (int k = depth; k < token.Length; k++)
            {
                GrammarState from = states[k];
                bool left = leftRule[k] || from.Complete;
                GrammarState next = from.Stacks.Length == 0 ? GrammarState.Dead : a.Step(from, token[k]);
                states[k + 1] = next;
                leftRule[k + 1] = left;
                valid = k + 1;
                if (next.IsDead)
                {
                    deadAt = k + 1;
                    onlyContext = left;
                    break;
                }
            }

            if (deadAt < 0)
            {
                GrammarState end = states[token.Length];
                if (!end.IsDead)
                {
                    Set(accepted, v.Ids[i]);
                }
                else if (leftRule[token.Length])
                {
                    dependent.Add(v.Ids[i]);
                }

                i++;
                continue;
            }

            // Every token under this prefix is rejected, or (when a path left the rule) up to the context.
            do
            {
                if (onlyContext)
                {
                    dependent.Add(v.Ids[i]);
                }

                i++;
            }
            while (i < count && v.CommonPrefix[i] >= deadAt);
        }

        return new NodeMask(accepted, [.. dependent]);
    }

    private static void Set(ulong[] bits, int id) => bits[id >> 6] |= 1UL << (id & 63);

    /// <summary>The tokens a node accepts on its own, and those to check against the whole stack.</summary>
    internal sealed record NodeMask(ulong[] Accepted, int[] ContextDependent);
}
