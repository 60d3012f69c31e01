namespace LlmAspire.Inference.Engine;

/// <summary>
/// What the scheduler needs from a model: a forward pass over consecutive KV rows and a prefix copy
/// between rows. ONNX Runtime implements it (<see cref="OnnxBatchModel"/>); unit tests use a fake.
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

    /// <summary>Whether <see cref="Forward"/> can return the logits of every new position (to check proposed tokens in one pass).</summary>
    bool ReturnsAllPositions => false;

    /// <summary>
    /// Appends <paramref name="tokensPerRow"/> tokens to each of the rows starting at <paramref name="firstRow"/>, after
    /// <c>lengths[i]</c> positions; returns the logits of each row's last new position, [rows, vocab], or with
    /// <paramref name="allPositions"/> (only where <see cref="ReturnsAllPositions"/>) of every new position,
    /// [rows, tokensPerRow, vocab]. The KV of a row past <c>lengths[i]</c> is stale and overwritten.
    /// </summary>
    float[] Forward(int firstRow, ReadOnlySpan<int> lengths, ReadOnlySpan<int> tokens, int tokensPerRow, bool allPositions);

    /// <summary>Copies the KV of the first <paramref name="positions"/> positions of one row into another.</summary>
    void CopyPrefix(int fromRow, int toRow, int positions);
}
