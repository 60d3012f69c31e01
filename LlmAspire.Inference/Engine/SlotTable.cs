namespace LlmAspire.Inference.Engine;

/// <summary>
/// KV-slot bookkeeping: which rows are busy, and which tokens each row's KV holds — for busy rows what the
/// sequence has computed so far, for free rows what the last sequence left behind, kept as a prefix cache.
/// A new prompt takes the free row that already holds its longest prefix (the least recently freed among equals), or
/// copies that prefix from a busy row.
/// </summary>
/// <remarks>
/// With a <see cref="TokenBudget"/> (a model whose KV memory is counted in tokens, not rows: see
/// <see cref="IBatchModel.KvTokenBudget"/>) the positions held by all rows, busy and free, stay within it: a row that
/// grows first takes positions from the cached prefixes of free rows, least recently freed first and from the end of a
/// row (as vLLM evicts free blocks), and sequences are admitted only while the positions reserved for them
/// (<see cref="Reserve"/>) fit, so running sequences never need more than the budget.
/// </remarks>
internal sealed class SlotTable
{
    private readonly List<int>[] _tokens;
    private readonly bool[] _busy;
    private readonly long[] _freedAt;
    private readonly int[] _reserved;
    private long _clock;

    /// <summary>Creates <paramref name="slots"/> empty rows of <paramref name="context"/> positions, holding at most <paramref name="tokenBudget"/> positions in all.</summary>
    public SlotTable(int slots, int context, int tokenBudget = int.MaxValue)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(slots, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(context, 2);
        ArgumentOutOfRangeException.ThrowIfLessThan(tokenBudget, 1);
        Context = context;
        TokenBudget = tokenBudget;
        _tokens = [.. Enumerable.Range(0, slots).Select(_ => new List<int>())];
        _busy = new bool[slots];
        _freedAt = new long[slots];
        _reserved = new int[slots];
    }

    /// <summary>Positions per row.</summary>
    public int Context { get; }

    /// <summary>The most positions all rows together may hold; <see cref="int.MaxValue"/> when only the rows bound them.</summary>
    public int TokenBudget { get; }

    /// <summary>Positions the rows can hold at most: the smaller of the rows' size and <see cref="TokenBudget"/>.</summary>
    public long Capacity => Math.Min(TokenBudget, (long)Slots * Context);

    /// <summary>Cached positions dropped from free rows to make room under <see cref="TokenBudget"/>, since creation.</summary>
    public long EvictedPositions { get; private set; }

    /// <summary>Positions held by free rows: the prefix cache.</summary>
    public int CachedPositions
    {
        get
        {
            int positions = 0;
            for (int slot = 0; slot < _busy.Length; slot++)
            {
                positions += _busy[slot] ? 0 : _tokens[slot].Count;
            }

            return positions;
        }
    }

    /// <summary>Positions reserved by busy rows (each at least what it holds).</summary>
    public long ReservedPositions
    {
        get
        {
            long positions = 0;
            for (int slot = 0; slot < _busy.Length; slot++)
            {
                positions += _busy[slot] ? Math.Max(_reserved[slot], _tokens[slot].Count) : 0;
            }

            return positions;
        }
    }

    /// <summary>Rows.</summary>
    public int Slots => _busy.Length;

    /// <summary>Rows not held by a sequence.</summary>
    public int FreeCount
    {
        get
        {
            int free = 0;
            foreach (bool busy in _busy)
            {
                free += busy ? 0 : 1;
            }

            return free;
        }
    }

    /// <summary>Positions held by busy rows.</summary>
    public int BusyPositions
    {
        get
        {
            int positions = 0;
            for (int slot = 0; slot < _busy.Length; slot++)
            {
                positions += _busy[slot] ? _tokens[slot].Count : 0;
            }

            return positions;
        }
    }

    /// <summary>Whether <paramref name="positions"/> more could be reserved without the busy rows exceeding <see cref="TokenBudget"/>.</summary>
    public bool CanReserve(long positions) => !HasTokenBudget || ReservedPositions + positions <= TokenBudget;

    /// <summary>Whether a <see cref="TokenBudget"/> bounds the rows (false: only their number and size do, as for ONNX Runtime's preallocated KV).</summary>
    public bool HasTokenBudget => TokenBudget != int.MaxValue;

    /// <summary>Reserves up to <paramref name="positions"/> positions for busy <paramref name="slot"/>: what its sequence may grow to.</summary>
    public void Reserve(int slot, int positions)
    {
        if (!_busy[slot])
        {
            throw new InvalidOperationException($"Slot {slot} is free.");
        }

        _reserved[slot] = positions;
    }

    /// <summary>Whether <paramref name="slot"/> is held.</summary>
    public bool IsBusy(int slot) => _busy[slot];

    /// <summary>Positions whose KV <paramref name="slot"/> holds.</summary>
    public int Length(int slot) => _tokens[slot].Count;

    /// <summary>
    /// Takes a free row for <paramref name="prompt"/>. Returns the row, how many leading prompt tokens already have
    /// their KV there (at most prompt length − 1: the last prompt token is always computed, for its logits), and the
    /// busy row to copy that prefix from when it is held elsewhere (−1 when the row itself holds it).
    /// </summary>
    public SlotAssignment Acquire(IReadOnlyList<int> prompt)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        int limit = Math.Max(0, prompt.Count - 1);
        int best = -1, bestMatch = -1;
        for (int slot = 0; slot < Slots; slot++)
        {
            if (!_busy[slot])
            {
                int match = CommonPrefix(_tokens[slot], prompt, limit);
                if (match > bestMatch || (match == bestMatch && _freedAt[slot] < _freedAt[best]))
                {
                    best = slot;
                    bestMatch = match;
                }
            }
        }

        if (best < 0)
        {
            throw new InvalidOperationException("No free KV slot.");
        }

        int source = -1, sourceMatch = bestMatch;
        for (int slot = 0; slot < Slots; slot++)
        {
            if (_busy[slot])
            {
                int match = CommonPrefix(_tokens[slot], prompt, limit);
                if (match > sourceMatch)
                {
                    source = slot;
                    sourceMatch = match;
                }
            }
        }

        int reused = source >= 0 ? sourceMatch : bestMatch;
        _busy[best] = true;
        _reserved[best] = 0;
        List<int> held = _tokens[best];
        held.RemoveRange(bestMatch, held.Count - bestMatch);
        if (source >= 0)
        {
            MakeRoom(reused - bestMatch);
            held.Clear();
            for (int i = 0; i < reused; i++)
            {
                held.Add(prompt[i]);
            }
        }

        return new SlotAssignment(best, reused, source);
    }

    /// <summary>
    /// Takes a free row without looking for a prefix (for rows about to receive a copy): the least recently freed, so
    /// never-used rows go first (the lowest of them) and recent prefixes stay cached longest.
    /// </summary>
    public int AcquireAny()
    {
        int chosen = -1;
        for (int slot = 0; slot < Slots; slot++)
        {
            if (!_busy[slot] && (chosen < 0 || _freedAt[slot] < _freedAt[chosen]))
            {
                chosen = slot;
            }
        }

        if (chosen < 0)
        {
            throw new InvalidOperationException("No free KV slot.");
        }

        _busy[chosen] = true;
        _reserved[chosen] = 0;
        _tokens[chosen].Clear();
        return chosen;
    }

    /// <summary>Records that busy <paramref name="slot"/>'s KV now holds exactly <paramref name="tokens"/> (after a prefix copy).</summary>
    public void Replace(int slot, IReadOnlyList<int> tokens)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        if (!_busy[slot])
        {
            throw new InvalidOperationException($"Slot {slot} is free.");
        }

        _tokens[slot].Clear();
        MakeRoom(tokens.Count);
        _tokens[slot].AddRange(tokens);
    }

    /// <summary>Records that <paramref name="slot"/>'s KV now also holds <paramref name="tokens"/>.</summary>
    public void Append(int slot, ReadOnlySpan<int> tokens)
    {
        if (!_busy[slot])
        {
            throw new InvalidOperationException($"Slot {slot} is free.");
        }

        if (_tokens[slot].Count + tokens.Length > Context)
        {
            throw new InvalidOperationException($"Slot {slot} would exceed {Context} positions.");
        }

        MakeRoom(tokens.Length);
        _tokens[slot].AddRange(tokens);
    }

    /// <summary>Frees <paramref name="slot"/>, keeping what its KV holds for later prompts that share a prefix.</summary>
    public void Release(int slot)
    {
        _busy[slot] = false;
        _reserved[slot] = 0;
        _freedAt[slot] = ++_clock;

        // A free row still takes a throw-away position in batched decode steps: keep one free at the end.
        List<int> held = _tokens[slot];
        if (held.Count >= Context)
        {
            held.RemoveRange(Context - 1, held.Count - (Context - 1));
        }
    }

    /// <summary>Forgets what <paramref name="slot"/> held (after a failed step left its KV undefined).</summary>
    public void Forget(int slot) => _tokens[slot].Clear();

    /// <summary>
    /// Drops cached positions from free rows until <paramref name="positions"/> more fit within <see cref="TokenBudget"/>:
    /// the least recently freed row first, from its end, so the shared beginnings of prompts stay longest.
    /// </summary>
    private void MakeRoom(int positions)
    {
        if (!HasTokenBudget || positions <= 0)
        {
            return;
        }

        long over = BusyPositions + (long)CachedPositions + positions - TokenBudget;
        while (over > 0)
        {
            int oldest = -1;
            for (int slot = 0; slot < Slots; slot++)
            {
                if (!_busy[slot] && _tokens[slot].Count > 0 && (oldest < 0 || _freedAt[slot] < _freedAt[oldest]))
                {
                    oldest = slot;
                }
            }

            if (oldest < 0)
            {
                throw new InvalidOperationException($"The busy rows would hold more than the budget of {TokenBudget} positions.");
            }

            List<int> held = _tokens[oldest];
            int drop = (int)Math.Min(over, held.Count);
            held.RemoveRange(held.Count - drop, drop);
            EvictedPositions += drop;
            over -= drop;
        }
    }

    private static int CommonPrefix(List<int> held, IReadOnlyList<int> prompt, int limit)
    {
        int n = Math.Min(Math.Min(held.Count, prompt.Count), limit);
        int i = 0;
        while (i < n && held[i] == prompt[i])
        {
            i++;
        }

        return i;
    }
}

/// <summary>The row given to a sequence.</summary>
/// <param name="Slot">The row.</param>
/// <param name="ReusedTokens">Leading prompt tokens whose KV need not be computed.</param>
/// <param name="CopyFrom">A busy row to copy those positions from, or −1 when the row already holds them.</param>
internal readonly record struct SlotAssignment(int Slot, int ReusedTokens, int CopyFrom);
