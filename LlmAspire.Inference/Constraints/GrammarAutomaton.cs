namespace LlmAspire.Inference.Constraints;

/// <summary>
/// A grammar compiled to a byte-level pushdown automaton: each rule is a Thompson NFA over byte ranges, calls of
/// other rules (which push the node to return to) and empty moves. Code-point sets become their UTF-8 byte
/// sequences, so tokens that split a character work. Nodes of repeated copies that no token can tell apart share
/// an <see cref="Alias"/>, which bounds the token-mask tables of long counted repetitions (maxLength: 5000).
/// </summary>
internal sealed class GrammarAutomaton
{
    private readonly List<List<(byte Lo, byte Hi, int Target)>> _edges = [];
    private readonly List<List<int>> _epsilons = [];
    private readonly List<List<(int Rule, int Return)>> _calls = [];
    private readonly List<int> _alias = [];
    private readonly List<int> _nodeRule = [];
    private readonly Dictionary<string, int> _ruleIndex = new(StringComparer.Ordinal);
    private readonly int _aliasDistance;
    private readonly int _currentRule;

    /// <param name="grammar">What to compile.</param>
    /// <param name="aliasDistance">
    /// The longest token in bytes: copies of a repetition that is this far or further from its end cannot be told
    /// apart by any one token, so they share mask tables.
    /// </param>
    public GrammarAutomaton(Grammar grammar, int aliasDistance)
    {
        ArgumentNullException.ThrowIfNull(grammar);
        _aliasDistance = Math.Max(1, aliasDistance);
        List<string> names = [grammar.Root, .. grammar.Rules.Keys.Where(k => k != grammar.Root).Order(StringComparer.Ordinal)];
        for (int i = 0; i < names.Count; i++)
        {
            _ruleIndex[names[i]] = i;
        }

        RuleNames = names;
        RuleStart = new int[names.Count];
        RuleEnd = new int[names.Count];
        for (int i = 0; i < names.Count; i++)
        {
            _currentRule = i;
            RuleStart[i] = NewNode();
            RuleEnd[i] = NewNode();
        }

        for (int i = 0; i < names.Count; i++)
        {
            _currentRule = i;
            Compile(grammar.Rules[names[i]], RuleStart[i], RuleEnd[i]);
        }

        NodeCount = _edges.Count;
        Edges = [.. _edges.Select(e => e.OrderBy(x => x.Lo).ToArray())];
        Calls = [.. _calls.Select(c => c.ToArray())];
        NodeRule = [.. _nodeRule];
        Alias = new int[NodeCount];
        for (int n = 0; n < NodeCount; n++)
        {
            int a = n;
            while (_alias[a] != a)
            {
                a = _alias[a];
            }

            Alias[n] = a;
        }

        EmptyClosure = ComputeEmptyClosures();
        IsRuleEnd = new bool[NodeCount];
        foreach (int end in RuleEnd)
        {
            IsRuleEnd[end] = true;
        }

        CheckLeftRecursion();
        RootStart = RuleStart[0];
        Start = Close([new GrammarFrame(RootStart, null)]);
        if (Start.IsDead)
        {
            throw new GrammarException("The grammar matches nothing.");
        }
    }

    /// <summary>Rule names by index; the root is 0.</summary>
    public IReadOnlyList<string> RuleNames { get; }

    /// <summary>Each rule's entry node.</summary>
    public int[] RuleStart { get; }

    /// <summary>Each rule's exit node.</summary>
    public int[] RuleEnd { get; }

    /// <summary>Nodes in the automaton.</summary>
    public int NodeCount { get; }

    /// <summary>Byte edges by node, sorted by their low byte: inclusive ranges and target nodes.</summary>
    public (byte Lo, byte Hi, int Target)[][] Edges { get; }

    /// <summary>Rule calls by node: the rule entered and the node its exit returns to.</summary>
    public (int Rule, int Return)[][] Calls { get; }

    /// <summary>The rule each node belongs to.</summary>
    public int[] NodeRule { get; }

    /// <summary>Whether a node is its rule's exit.</summary>
    public bool[] IsRuleEnd { get; }

    /// <summary>For each node, the node whose token mask it shares (itself when none).</summary>
    public int[] Alias { get; }

    /// <summary>For each node, the nodes empty moves reach from it (itself included), within its rule.</summary>
    public int[][] EmptyClosure { get; }

    /// <summary>The root rule's entry node.</summary>
    public int RootStart { get; }

    /// <summary>The state before any byte.</summary>
    public GrammarState Start { get; }

    /// <summary>The state after <paramref name="b"/> from <paramref name="state"/>.</summary>
    public GrammarState Step(GrammarState state, byte b)
    {
        var closer = new Closer(this);
        foreach (GrammarFrame frame in state.Stacks)
        {
            foreach ((byte lo, byte hi, int target) in Edges[frame.Node])
            {
                if (b < lo)
                {
                    break;
                }

                if (b <= hi)
                {
                    closer.Close(target, frame.Parent);
                }
            }
        }

        return closer.ToState();
    }

    /// <summary>The state after all of <paramref name="bytes"/>; <see cref="GrammarState.Dead"/> when they do not match.</summary>
    public GrammarState Step(GrammarState state, ReadOnlySpan<byte> bytes)
    {
        foreach (byte b in bytes)
        {
            if (state.Stacks.Length == 0)
            {
                return GrammarState.Dead;
            }

            state = Step(state, b);
        }

        return state;
    }

    /// <summary>The state of the stacks <paramref name="frames"/> after their empty moves, calls and returns.</summary>
    public GrammarState Close(IEnumerable<GrammarFrame> frames)
    {
        var closer = new Closer(this);
        foreach (GrammarFrame frame in frames)
        {
            closer.Close(frame.Node, frame.Parent);
        }

        return closer.ToState();
    }

    /// <summary>A state of just the positioned stack <paramref name="frame"/>, taken as it is.</summary>
    public static GrammarState Positioned(GrammarFrame frame) => new([frame], false);

    private int NewNode()
    {
        _edges.Add([]);
        _epsilons.Add([]);
        _calls.Add([]);
        _alias.Add(_alias.Count);
        _nodeRule.Add(_currentRule);
        return _edges.Count - 1;
    }

    private void Compile(GrammarExpression expression, int from, int to)
    {
        switch (expression)
        {
            case CharSetExpression set:
                CompileCharSet(set, from, to);
                break;
            case SequenceExpression { Items.Count: 0 }:
                _epsilons[from].Add(to);
                break;
            case SequenceExpression sequence:
                int at = from;
                for (int i = 0; i < sequence.Items.Count; i++)
                {
                    int next = i == sequence.Items.Count - 1 ? to : NewNode();
                    Compile(sequence.Items[i], at, next);
                    at = next;
                }

                break;
            case ChoiceExpression choice:
                foreach (GrammarExpression alternative in choice.Alternatives)
                {
                    // Each alternative gets its own entry so that loops inside one never reach another.
                    int entry = NewNode();
                    _epsilons[from].Add(entry);
                    Compile(alternative, entry, to);
                }

                break;
            case RepeatExpression repeat:
                CompileRepeat(repeat, from, to);
                break;
            case RuleReference reference:
                _calls[from].Add((_ruleIndex[reference.Name], to));
                break;
            default:
                throw new GrammarException($"Unknown grammar expression {expression.GetType().Name}.");
        }
    }

    private void CompileCharSet(CharSetExpression set, int from, int to)
    {
        if (set.IsEmpty)
        {
            return; // matches nothing: no edge
        }

        // A byte trie: sequences that share leading ranges share nodes.
        var children = new Dictionary<(int Node, byte Lo, byte Hi), int>();
        foreach ((int first, int last) in set.Ranges)
        {
            foreach ((byte Lo, byte Hi)[] sequence in Utf8Ranges.Split(first, last))
            {
                int at = from;
                for (int i = 0; i < sequence.Length; i++)
                {
                    (byte lo, byte hi) = sequence[i];
                    if (i == sequence.Length - 1)
                    {
                        _edges[at].Add((lo, hi, to));
                    }
                    else
                    {
                        if (!children.TryGetValue((at, lo, hi), out int next))
                        {
                            next = NewNode();
                            children[(at, lo, hi)] = next;
                            _edges[at].Add((lo, hi, next));
                        }

                        at = next;
                    }
                }
            }
        }
    }

    private void CompileRepeat(RepeatExpression repeat, int from, int to)
    {
        bool nullable = MinBytes(repeat.Item) == 0;
        int at = from;

        // Mandatory copies: copy k leaves Min - k - 1 more before the optional part.
        int firstBlock = -1;
        for (int k = 0; k < repeat.Min; k++)
        {
            int blockStart = _edges.Count;
            int next = k == repeat.Min - 1 && repeat.Max == repeat.Min ? to : NewNode();
            Compile(repeat.Item, at, next);
            int remaining = repeat.Min - k - 1;
            firstBlock = AliasBlock(firstBlock, blockStart, nullable, remaining >= _aliasDistance);
            at = next;
        }

        if (repeat.Max is null)
        {
            // Star: a loop node that may leave at any time.
            int loop = NewNode();
            _epsilons[at].Add(loop);
            int back = NewNode();
            Compile(repeat.Item, loop, back);
            _epsilons[back].Add(loop);
            _epsilons[loop].Add(to);
            return;
        }

        int optional = repeat.Max.Value - repeat.Min;
        if (optional == 0)
        {
            if (repeat.Min == 0)
            {
                _epsilons[from].Add(to);
            }

            return;
        }

        firstBlock = -1;
        for (int j = 0; j < optional; j++)
        {
            int blockStart = _edges.Count;
            _epsilons[at].Add(to);
            int next = j == optional - 1 ? to : NewNode();
            Compile(repeat.Item, at, next);
            int remaining = optional - j - 1;
            firstBlock = AliasBlock(firstBlock, blockStart, nullable, remaining >= _aliasDistance);
            at = next;
        }
    }

    /// <summary>
    /// Makes the nodes allocated since <paramref name="blockStart"/> aliases of the same nodes of the first such
    /// block, when both are far enough from the end of their repetition. Returns the first block's start.
    /// </summary>
    private int AliasBlock(int firstBlock, int blockStart, bool nullable, bool farFromEnd)
    {
        if (nullable || !farFromEnd)
        {
            return -1;
        }

        if (firstBlock < 0)
        {
            return blockStart;
        }

        int size = _edges.Count - blockStart;
        for (int i = 0; i < size; i++)
        {
            _alias[blockStart + i] = firstBlock + i;
        }

        return firstBlock;
    }

    private int[][] ComputeEmptyClosures()
    {
        var result = new int[NodeCount][];
        var stack = new Stack<int>();
        var seen = new HashSet<int>();
        for (int n = 0; n < NodeCount; n++)
        {
            seen.Clear();
            stack.Push(n);
            seen.Add(n);
            while (stack.Count > 0)
            {
                int m = stack.Pop();
                foreach (int e in _epsilons[m])
                {
                    if (seen.Add(e))
                    {
                        stack.Push(e);
                    }
                }
            }

            result[n] = [.. seen.Order()];
        }

        return result;
    }

    private void CheckLeftRecursion()
    {
        int rules = RuleNames.Count;
        bool[] nullable = new bool[rules];
        bool changed = true;
        while (changed)
        {
            changed = false;
            for (int r = 0; r < rules; r++)
            {
                if (!nullable[r] && Reaches(RuleStart[r], n => n == RuleEnd[r], nullable, _ => { }))
                {
                    nullable[r] = true;
                    changed = true;
                }
            }
        }

        // Rule r "starts with" every rule it can call before consuming a byte.
        var startsWith = new List<int>[rules];
        for (int r = 0; r < rules; r++)
        {
            var list = new List<int>();
            Reaches(RuleStart[r], _ => false, nullable, list.Add);
            startsWith[r] = list;
        }

        for (int r = 0; r < rules; r++)
        {
            var seen = new HashSet<int>();
            var stack = new Stack<int>(startsWith[r]);
            while (stack.Count > 0)
            {
                int s = stack.Pop();
                if (s == r)
                {
                    throw new GrammarException($"Rule '{RuleNames[r]}' is left-recursive (it can reach itself before matching a character); rewrite it with repetition.");
                }

                if (seen.Add(s))
                {
                    foreach (int t in startsWith[s])
                    {
                        stack.Push(t);
                    }
                }
            }
        }
    }

    /// <summary>Walks empty moves and calls of nullable rules from <paramref name="start"/>; reports every rule called.</summary>
    private bool Reaches(int start, Func<int, bool> goal, bool[] nullable, Action<int> called)
    {
        var seen = new HashSet<int> { start };
        var stack = new Stack<int>();
        stack.Push(start);
        bool found = false;
        while (stack.Count > 0)
        {
            int n = stack.Pop();
            found |= goal(n);
            foreach (int e in _epsilons[n])
            {
                if (seen.Add(e))
                {
                    stack.Push(e);
                }
            }

            foreach ((int rule, int ret) in _calls[n])
            {
                called(rule);
                if (nullable[rule] && seen.Add(ret))
                {
                    stack.Push(ret);
                }
            }
        }

        return found;
    }

    /// <summary>The fewest bytes <paramref name="expression"/> matches (0 when it can match nothing); rules count as 0.</summary>
    private static int MinBytes(GrammarExpression expression) => expression switch
    {
        CharSetExpression set => set.IsEmpty ? 0 : set.Ranges[0].First < 0x80 ? 1 : 2,
        SequenceExpression s => s.Items.Sum(MinBytes),
        ChoiceExpression c => c.Alternatives.Min(MinBytes),
        RepeatExpression r => r.Min * MinBytes(r.Item),
        _ => 0,
    };

    /// <summary>Follows empty moves, calls and returns to the positioned stacks, without duplicates.</summary>
    private readonly struct Closer(GrammarAutomaton automaton)
    {
        private readonly HashSet<GrammarFrame> _visited = [];
        private readonly List<GrammarFrame> _stacks = [];
        private readonly bool[] _complete = new bool[1];

        public void Close(int node, GrammarFrame? parent)
        {
            foreach (int m in automaton.EmptyClosure[node])
            {
                var frame = new GrammarFrame(m, parent);
                if (!_visited.Add(frame))
                {
                    continue;
                }

                if (automaton.Edges[m].Length > 0)
                {
                    _stacks.Add(frame);
                }

                foreach ((int rule, int ret) in automaton.Calls[m])
                {
                    Close(automaton.RuleStart[rule], new GrammarFrame(ret, parent));
                }

                if (automaton.IsRuleEnd[m])
                {
                    if (parent is null)
                    {
                        _complete[0] = true;
                    }
                    else
                    {
                        Close(parent.Node, parent.Parent);
                    }
                }
            }
        }

        public GrammarState ToState() => _stacks.Count == 0 && !_complete[0] ? GrammarState.Dead : new GrammarState([.. _stacks], _complete[0]);
    }
}
