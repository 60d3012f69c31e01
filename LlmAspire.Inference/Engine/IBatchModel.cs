namespace LlmAspire.Inference.Engine;

/// <summary>
/// What the scheduler needs from a model: a forward pass over consecutive KV rows and a prefix copy
/// between rows. ONNX Runtime implements it (<see cref="OnnxBatchModel"/>), the simulated engine sleeps through it
/// (<see cref="Simulation.SimulatedBatchModel"/>); unit tests use a fake.
/// </summary>
internal interface IBatchModel
{
    /// <summary>Vocabulary size: the length of one row of logits.</summary>
    int VocabSize { get; }

    /// <summary>KV rows.</summary>
    int Slots { get; }

    /// <summary>Positions per row.</summary>
    int Context { get; }

    /// <summary>
    /// Whether a pass must compute every row of its range (true: a shared KV buffer is viewed as consecutive rows, so rows
    /// that are not decoding take a throw-away token at their first unused position), or may leave rows out (false: each
    /// row's KV is its own; a row given a negative length is skipped and its logits are zeros).
    /// </summary>
    bool ComputesEveryRow => true;

    /// <summary>
    /// The most KV positions all rows together may hold, when the model's KV memory is counted in tokens rather than
    /// rows (<see cref="SlotTable.TokenBudget"/>); <see cref="int.MaxValue"/> (the default) when the rows bound it.
    /// </summary>
    int KvTokenBudget => int.MaxValue;

    /// <summary>Whether <see cref="Forward"/> can return the logits of every new position (to check proposed tokens in one pass).</summary>
    bool ReturnsAllPositions => false;

    /// <summary>
    /// Whether <see cref="Forward"/> takes several tokens per row for several rows after their pasts in one pass (to
    /// check every sequence's proposed tokens together). ONNX Runtime's GroupQueryAttention takes several tokens for one
    /// row at a time only; our CPU kernel takes both.
    /// </summary>
    bool ChecksSeveralRows => false;

    /// <summary>
    /// Whether a prompt with one token left to compute may have it fed in a decode pass, as one more row beside the
    /// decoding ones (true), rather than through <see cref="Prefill"/>: on a CPU a pass reads every weight, so a row of
    /// the decode pass costs a fraction of a pass of its own. False for a model that prices prompt tokens apart from
    /// decode steps (<see cref="Simulation.SimulatedBatchModel"/>).
    /// </summary>
    bool TakesPromptTokensInDecodePass => true;

    /// <summary>
    /// Appends <paramref name="tokensPerRow"/> tokens to each of the rows starting at <paramref name="firstRow"/>, after
    /// <c>lengths[i]</c> positions; returns the logits of each row's last new position, [rows, vocab], or with
    /// <paramref name="allPositions"/> (only where <see cref="ReturnsAllPositions"/>) of every new position,
    /// [rows, tokensPerRow, vocab]. The KV of a row past <c>lengths[i]</c> is stale and overwritten. The caller reads the
    /// logits before its next call, so a model may return the same buffer each time.
    /// </summary>
    float[] Forward(int firstRow, ReadOnlySpan<int> lengths, ReadOnlySpan<int> tokens, int tokensPerRow, bool allPositions);

    /// <summary>
    /// Computes <paramref name="tokens"/>, a chunk of one sequence's prompt, in <paramref name="row"/> after its first
    /// <paramref name="length"/> positions, and returns the logits of the chunk's last position: a <see cref="Forward"/>
    /// of one row, which a model that prices prompt tokens apart from decode steps can tell from a one-row decode pass.
    /// </summary>
    float[] Prefill(int row, int length, ReadOnlySpan<int> tokens) => Forward(row, [length], tokens, tokens.Length, allPositions: false);

    /// <summary>
    /// Computes several rows' prompt chunks in one pass (only where <see cref="ChecksSeveralRows"/>): row i of the rows
    /// starting at <paramref name="firstRow"/> appends <c>counts[i]</c> of its <paramref name="tokensPerRow"/> tokens after
    /// <c>lengths[i]</c> positions (the rest is padding, computed and left stale like any position past a row's length; a
    /// row with a count of 0 takes throw-away tokens only), and gets the logits of its last counted position: [rows, vocab].
    /// </summary>
    float[] Prefill(int firstRow, ReadOnlySpan<int> lengths, ReadOnlySpan<int> tokens, int tokensPerRow, ReadOnlySpan<int> counts)
    {
        float[] all = Forward(firstRow, lengths, tokens, tokensPerRow, allPositions: true);
        int vocab = VocabSize;
        float[] last = new float[lengths.Length * vocab];
        for (int r = 0; r < lengths.Length; r++)
        {
            all.AsSpan(((r * tokensPerRow) + Math.Max(counts[r], 1) - 1) * vocab, vocab).CopyTo(last.AsSpan(r * vocab, vocab));
        }

        return last;
    }

    /// <summary>
    /// Marks the end of an engine step: the passes since the last call (prompt chunks, then one decode pass) are what one
    /// fused forward pass of a GPU server computes. Nothing to do for a model that really computes them.
    /// </summary>
    void EndStep()
    {
    }

    /// <summary>Copies the KV of the first <paramref name="positions"/> positions of one row into another.</summary>
    void CopyPrefix(int fromRow, int toRow, int positions);
}
