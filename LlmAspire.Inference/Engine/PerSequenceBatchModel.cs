using LlmAspire.Inference.Models;
using Microsoft.ML.OnnxRuntime;

namespace LlmAspire.Inference.Engine;

/// <summary>
/// The batch model over a decoder whose attention takes each sequence's own past keys and values and returns them
/// grown by the new tokens (<see cref="AttentionPath.PerSequence"/>: MultiHeadAttention graphs, Optimum exports). Each
/// row's KV lives in a <see cref="KvCache"/> row; a run gathers the rows' first <c>lengths[i]</c> positions into past
/// tensors, and writes the present tensors' new positions back. Padded: the rows of one decode step run together,
/// right-padded to the longest with <c>attention_mask</c> zeros and each row's true <c>position_ids</c>; otherwise
/// one row per run. Rows that are not decoding are left out. Prefixes are copied between rows as in the shared path.
/// </summary>
internal sealed class PerSequenceBatchModel : IBatchModel, IDisposable
{
    private readonly DecoderSession _decoder;
    private readonly KvCache _store;

    /// <summary>Allocates <paramref name="slots"/> rows of <paramref name="context"/> positions for <paramref name="decoder"/>.</summary>
    public PerSequenceBatchModel(DecoderSession decoder, int slots, int context, bool padded)
    {
        _decoder = decoder ?? throw new ArgumentNullException(nameof(decoder));
        _store = decoder.CreateSequenceStore(slots, context);
        Padded = padded;
    }

    /// <summary>True when a decode step runs its rows as one padded batch; false for one row per run.</summary>
    public bool Padded { get; }

    /// <inheritdoc />
    public int VocabSize => _decoder.Config.VocabSize;

    /// <inheritdoc />
    public int Slots => _store.Slots;

    /// <inheritdoc />
    public int Context => _store.Context;

    /// <inheritdoc />
    public bool ComputesEveryRow => false;

    /// <summary>The most sequences one run has held so far (1 when every run was a single sequence).</summary>
    public int LargestRun { get; private set; }

    /// <summary>Bytes of KV memory held.</summary>
    public long KvBytes => _store.Bytes;

    /// <inheritdoc />
    /// <remarks>
    /// Not <see cref="IBatchModel.ReturnsAllPositions"/>: the decoder's per-sequence run returns each row's last logits
    /// only, so the engine does not speculate on this path.
    /// </remarks>
    public float[] Forward(int firstRow, ReadOnlySpan<int> lengths, ReadOnlySpan<int> tokens, int tokensPerRow, bool allPositions)
    {
        int rows = lengths.Length, s = tokensPerRow;
        if (allPositions && s > 1)
        {
            throw new NotSupportedException("The per-sequence attention path returns the logits of each row's last position only.");
        }

        if (rows == 0 || s < 1 || tokens.Length != rows * s || firstRow < 0 || firstRow + rows > Slots)
        {
            throw new ArgumentException("tokens must hold tokensPerRow ids for each row, within the rows held.", nameof(tokens));
        }

        var active = new List<int>(rows);
        for (int r = 0; r < rows; r++)
        {
            if (lengths[r] < 0)
            {
                continue;
            }

            if (lengths[r] + s > Context)
            {
                throw new ArgumentOutOfRangeException(nameof(lengths), lengths[r], $"Row length {lengths[r]} + {s} exceeds the context {Context}.");
            }

            active.Add(r);
        }

        float[] logits = new float[rows * VocabSize];
        if (Padded)
        {
            Run(firstRow, [.. active], lengths, tokens, s, logits);
        }
        else
        {
            foreach (int r in active)
            {
                Run(firstRow, [r], lengths, tokens, s, logits);
            }
        }

        return logits;
    }

    /// <inheritdoc />
    public void CopyPrefix(int fromRow, int toRow, int positions) => _store.CopyPrefix(fromRow, toRow, positions);

    /// <inheritdoc />
    public void Dispose() => _store.Dispose();

    /// <summary>One run over <paramref name="members"/> (indices into the pass), right-padded to the longest past.</summary>
    private void Run(int firstRow, int[] members, ReadOnlySpan<int> lengths, ReadOnlySpan<int> tokens, int s, float[] logits)
    {
        if (members.Length == 0)
        {
            return;
        }

        int rows = members.Length;
        LargestRun = Math.Max(LargestRun, rows);
        int past = 0;
        foreach (int m in members)
        {
            past = Math.Max(past, lengths[m]);
        }

        int total = past + s;
        long[] ids = new long[rows * s];
        long[] positions = new long[rows * s];
        long[] mask = new long[rows * total];
        for (int b = 0; b < rows; b++)
        {
            int m = members[b];
            for (int j = 0; j < s; j++)
            {
                ids[(b * s) + j] = tokens[(m * s) + j];
                positions[(b * s) + j] = lengths[m] + j;
            }

            // Real past positions, padding (zeros) up to the longest, then the new tokens.
            Array.Fill(mask, 1L, b * total, lengths[m]);
            Array.Fill(mask, 1L, (b * total) + past, s);
        }

        int element = _store.ElementSize;
        long pastBlock = (long)_store.KvHeads * past * _store.HeadSize * element;
        long presentBlock = (long)_store.KvHeads * total * _store.HeadSize * element;
        var pastValues = new OrtValue[_store.Layers * 2];
        try
        {
            for (int i = 0; i < pastValues.Length; i++)
            {
                pastValues[i] = OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, _store.ElementType, [rows, _store.KvHeads, past, _store.HeadSize]);
                Span<byte> data = pastValues[i].GetTensorMutableRawData();

                // Padded positions are masked out, yet their values still meet a zero weight: they must be finite.
                data.Clear();
                for (int b = 0; b < rows; b++)
                {
                    _store.Read(i, firstRow + members[b], 0, lengths[members[b]], data.Slice((int)(b * pastBlock), (int)pastBlock), past, 0);
                }
            }

            (float[] rowLogits, IDisposableReadOnlyCollection<OrtValue> outputs) = _decoder.RunWithPast(ids, mask, positions, rows, s, pastValues);
            using (outputs)
            {
                for (int i = 0; i < pastValues.Length; i++)
                {
                    OrtValue present = outputs[1 + i];
                    long[] shape = present.GetTensorTypeAndShape().Shape;
                    if (shape.Length != 4 || shape[2] != total)
                    {
                        throw new InvalidDataException(
                            $"The decoder's present output {i / 2} has shape [{string.Join(", ", shape)}]; the per-sequence path needs [batch, kv heads, past + new = {total}, head size].");
                    }

                    ReadOnlySpan<byte> data = present.GetTensorMutableRawData();
                    for (int b = 0; b < rows; b++)
                    {
                        _store.Write(i, firstRow + members[b], lengths[members[b]], s, data.Slice((int)(b * presentBlock), (int)presentBlock), total, past);
                    }
                }
            }

            int vocab = VocabSize;
            for (int b = 0; b < rows; b++)
            {
                Array.Copy(rowLogits, b * vocab, logits, members[b] * vocab, vocab);
            }
        }
        finally
        {
            foreach (OrtValue? value in pastValues)
            {
                value?.Dispose();
            }
        }
    }
}
