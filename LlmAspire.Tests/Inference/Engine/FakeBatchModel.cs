using LlmAspire.Inference.Engine;

namespace LlmAspire.Tests.Inference.Engine;

/// <summary>
/// A deterministic stand-in for a decoder: each row keeps the tokens "in its KV"; the logits after a position
/// peak at a token that depends on every token before it, so a wrong length, a wrong row or a bad prefix copy
/// changes the output. Records every forward call.
/// </summary>
internal sealed class FakeBatchModel : IBatchModel
{
    private readonly int[][] _rows;
    private readonly Lock _lock = new();

    public FakeBatchModel(int slots, int context, int vocab = 50)
    {
        _rows = [.. Enumerable.Range(0, slots).Select(_ => new int[context])];
        Context = context;
        VocabSize = vocab;
    }

    public int VocabSize { get; }

    public int Slots => _rows.Length;

    public int Context { get; }

    public List<(int FirstRow, int Rows, int TokensPerRow)> Calls { get; } = [];

    /// <summary>Called inside every forward pass (tests use it to block the engine thread).</summary>
    public Action? OnForward { get; set; }

    /// <summary>Where the logits after a prefix peak (row tokens, prefix length); null for the hash of the prefix.</summary>
    public Func<int[], int, int>? Peak { get; init; }

    public bool ReturnsAllPositions => true;

    /// <summary>Whether the engine may check several rows' proposals in one pass (the fake computes either).</summary>
    public bool ChecksSeveralRows { get; init; }

    public float[] Forward(int firstRow, ReadOnlySpan<int> lengths, ReadOnlySpan<int> tokens, int tokensPerRow, bool allPositions)
    {
        OnForward?.Invoke();
        lock (_lock)
        {
            Calls.Add((firstRow, lengths.Length, tokensPerRow));
        }

        int positions = allPositions ? tokensPerRow : 1;
        float[] logits = new float[lengths.Length * positions * VocabSize];
        for (int r = 0; r < lengths.Length; r++)
        {
            int[] row = _rows[firstRow + r];
            for (int i = 0; i < tokensPerRow; i++)
            {
                row[lengths[r] + i] = tokens[r * tokensPerRow + i];
            }

            for (int j = 0; j < positions; j++)
            {
                int end = lengths[r] + tokensPerRow - positions + j + 1;
                Logits(row, end, logits.AsSpan(((r * positions) + j) * VocabSize, VocabSize));
            }
        }

        return logits;
    }

    /// <summary>The logits after the first <paramref name="end"/> tokens of <paramref name="row"/>: a function of those tokens only.</summary>
    private void Logits(int[] row, int end, Span<float> logits)
    {
        long hash = 17;
        for (int p = 0; p < end; p++)
        {
            hash = (hash * 31 + row[p] + 1) % 1_000_003;
        }

        // A peak at one token, a runner-up, and a floor: sampling has something to choose from.
        for (int v = 0; v < VocabSize; v++)
        {
            logits[v] = -(float)((hash + v * 7) % 13) / 4f;
        }

        logits[Peak?.Invoke(row, end) ?? (int)(hash % (VocabSize - 3)) + 3] = 5f;
    }

    /// <summary>The first <paramref name="count"/> tokens "in the KV" of <paramref name="row"/>.</summary>
    public int[] RowTokens(int row, int count) => _rows[row][..count];

    public void CopyPrefix(int fromRow, int toRow, int positions) => Array.Copy(_rows[fromRow], _rows[toRow], positions);

    /// <summary>
    /// Holds the engine inside its next pass until the hold is released (tests submit requests meanwhile, so that they
    /// arrive in the same step); replaces <see cref="OnForward"/>, and releasing clears it.
    /// </summary>
    public PassHold HoldNextPass() => new(this);

    public int[] CallsWith(int tokensPerRow)
    {
        lock (_lock)
        {
            return [.. Calls.Where(c => c.TokensPerRow == tokensPerRow).Select(c => c.Rows)];
        }
    }
}

/// <summary>The engine held inside a pass of a <see cref="FakeBatchModel"/> (<see cref="FakeBatchModel.HoldNextPass"/>).</summary>
internal sealed class PassHold : IDisposable
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(20);
    private readonly FakeBatchModel _model;
    private readonly SemaphoreSlim _entered = new(0);
    private readonly ManualResetEventSlim _gate = new(false);

    public PassHold(FakeBatchModel model)
    {
        _model = model;
        model.OnForward = () =>
        {
            CallsBefore = model.Calls.Count;
            _entered.Release();
            _gate.Wait(s_timeout);
        };
    }

    /// <summary>The passes recorded before the held one (which is recorded once released).</summary>
    public int CallsBefore { get; private set; }

    /// <summary>Waits until the engine is inside the held pass; false after the timeout.</summary>
    public Task<bool> EnteredAsync() => _entered.WaitAsync(s_timeout);

    /// <summary>Lets the held pass, and every later one, run.</summary>
    public void Release()
    {
        _model.OnForward = null;
        _gate.Set();
    }

    public void Dispose()
    {
        _gate.Set();
        _entered.Dispose();
        _gate.Dispose();
    }
}
