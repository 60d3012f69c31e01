using System.Runtime.CompilerServices;

namespace LlmAspire.Inference.Engine;

/// <summary>The batch model over an ONNX Runtime decoder and its preallocated KV cache.</summary>
internal sealed class OnnxBatchModel : IBatchModel, IDisposable
{
    private readonly DecoderSession _decoder;
    private readonly KvCache _cache;
    private readonly ForwardBuffers _buffers;

    /// <summary>Allocates <paramref name="slots"/> rows of <paramref name="context"/> positions for <paramref name="decoder"/>.</summary>
    public OnnxBatchModel(DecoderSession decoder, int slots, int context)
    {
        _decoder = decoder ?? throw new ArgumentNullException(nameof(decoder));
        _cache = decoder.CreateKvCache(slots, context);
        _buffers = decoder.CreateForwardBuffers();
    }

    /// <inheritdoc />
    public int VocabSize => _decoder.Config.VocabSize;

    /// <inheritdoc />
    public int Slots => _cache.Slots;

    /// <inheritdoc />
    public int Context => _cache.Context;

    /// <summary>Bytes of KV memory held.</summary>
    public long KvBytes => _cache.Bytes;

    /// <inheritdoc />
    public bool ReturnsAllPositions => true;

    /// <inheritdoc />
    public bool ChecksSeveralRows => _decoder.Attention == AttentionKernelChoice.LlmAspire;

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public float[] Forward(int firstRow, ReadOnlySpan<int> lengths, ReadOnlySpan<int> tokens, int tokensPerRow, bool allPositions) =>
        _decoder.ForwardBatch(_cache, firstRow, lengths, tokens, tokensPerRow, allPositions, buffers: _buffers);

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public float[] Prefill(int firstRow, ReadOnlySpan<int> lengths, ReadOnlySpan<int> tokens, int tokensPerRow, ReadOnlySpan<int> counts) =>
        _decoder.ForwardBatch(_cache, firstRow, lengths, tokens, tokensPerRow, allPositions: false, counts, _buffers);

    /// <inheritdoc />
    public void CopyPrefix(int fromRow, int toRow, int positions) => _cache.CopyPrefix(fromRow, toRow, positions);

    /// <inheritdoc />
    public void Dispose() => _cache.Dispose();
}
