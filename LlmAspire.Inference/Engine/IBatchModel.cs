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
    /// Appends <paramref name="tokensPerRow"/> tokens to each of the rows starting at <paramref name="firstRow"/>, after
    /// <c>lengths[i]</c> positions; returns the logits of each row's last new position, [rows, vocab].
    /// </summary>
    float[] Forward(int firstRow, ReadOnlySpan<int> lengths, ReadOnlySpan<int> tokens, int tokensPerRow);

    /// <summary>Copies the KV of the first <paramref name="positions"/> positions of one row into another.</summary>
    void CopyPrefix(int fromRow, int toRow, int positions);
}
