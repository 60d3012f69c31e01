namespace LlmAspire.Inference.Engine;

/// <summary>
/// KV-slot bookkeeping: which rows are busy, and which tokens each row's KV holds — for busy rows what the
/// sequence has computed so far, for free rows what the last sequence left behind, kept as a prefix cache.
/// A new prompt takes the free row that already holds its longest prefix, or copies that prefix from a busy row.
/// </summary>
internal sealed class SlotTable
{
    private readonly List<int>[] _tokens;
    private readonly bool[] _busy;

    /// <summary>Creates <paramref name="slots"/> empty rows of <paramref name="context"/> positions.</summary>
    public SlotTable(int slots, int context)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(slots, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(context, 2);
        Context = context;
        _tokens = [.. Enumerable.Range(0, slots).Select(_ => new List<int>())];
        _busy = new bool[slots];
    }

    /// <summary>Positions per row.</summary>
    public int Context { get; }

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
                if (match > bestMatch)
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
        List<int> held = _tokens[best];
        held.Clear();
        for (int i = 0; i < reused; i++)
        {
            held.Add(prompt[i]);
        }

        return new SlotAssignment(best, reused, source);
    }

    /// <summary>Takes the lowest free row without looking for a prefix (for rows about to receive a copy).</summary>
    public int AcquireAny()
    {
        for (int slot = 0; slot < Slots; slot++)
        {
            if (!_busy[slot])
            {
                _busy[slot] = true;
                _tokens[slot].Clear();
                return slot;
            }
        }

        throw new InvalidOperationException("No free KV slot.");
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

        _tokens[slot].AddRange(tokens);
    }

    /// <summary>Frees <paramref name="slot"/>, keeping what its KV holds for later prompts that share a prefix.</summary>
    public void Release(int slot)
    {
        _busy[slot] = false;

        // A free row still takes a throw-away position in batched decode steps: keep one free at the end.
        List<int> held = _tokens[slot];
        if (held.Count >= Context)
        {
            held.RemoveRange(Context - 1, held.Count - (Context - 1));
        }
    }

    /// <summary>Forgets what <paramref name="slot"/> held (after a failed step left its KV undefined).</summary>
    public void Forget(int slot) => _tokens[slot].Clear();

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
