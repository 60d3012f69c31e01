using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace LlmAspire.Inference.Engine;

/// <summary>
/// The KV memory of a batch decoder, allocated once: per layer one key and one value buffer of
/// [slots, kvHeads, context, headSize], shared by past and present (GroupQueryAttention writes the new
/// positions in place). A slot is a row; views of consecutive rows are handed to ONNX Runtime without copying.
/// </summary>
internal sealed class KvCache : IDisposable
{
    private readonly OrtValue[] _buffers;
    private readonly OrtMemoryInfo _memoryInfo;
    private readonly long _rowBytes;
    private readonly Dictionary<(int FirstRow, int Rows), OrtValue[]> _views = [];

    internal KvCache(int layers, int slots, int kvHeads, int context, int headSize, TensorElementType elementType)
    {
        Layers = layers;
        Slots = slots;
        KvHeads = kvHeads;
        Context = context;
        HeadSize = headSize;
        ElementType = elementType;
        int elementSize = elementType switch
        {
            TensorElementType.Float => 4,
            TensorElementType.Float16 or TensorElementType.BFloat16 => 2,
            _ => throw new NotSupportedException($"KV cache element type {elementType} is not supported."),
        };
        _rowBytes = (long)kvHeads * context * headSize * elementSize;
        _memoryInfo = OrtMemoryInfo.DefaultInstance;
        _buffers = new OrtValue[layers * 2];
        long[] shape = [slots, kvHeads, context, headSize];
        for (int i = 0; i < _buffers.Length; i++)
        {
            _buffers[i] = OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, elementType, shape);
        }
    }

    /// <summary>Layers.</summary>
    public int Layers { get; }

    /// <summary>Rows (concurrent sequences).</summary>
    public int Slots { get; }

    /// <summary>Key/value heads.</summary>
    public int KvHeads { get; }

    /// <summary>Positions per row.</summary>
    public int Context { get; }

    /// <summary>Head size of the cache.</summary>
    public int HeadSize { get; }

    /// <summary>Element type.</summary>
    public TensorElementType ElementType { get; }

    /// <summary>Bytes held.</summary>
    public long Bytes => _rowBytes * Slots * _buffers.Length;

    /// <summary>
    /// Views of rows [<paramref name="firstRow"/>, firstRow + <paramref name="rows"/>) of every buffer, in graph order
    /// (layer 0 key, layer 0 value, ...). Made once per row range and kept: the cache owns and disposes them.
    /// Not thread-safe: one engine thread drives a cache.
    /// </summary>
    internal OrtValue[] Views(int firstRow, int rows)
    {
        if (firstRow < 0 || rows < 1 || firstRow + rows > Slots)
        {
            throw new ArgumentOutOfRangeException(nameof(rows), $"Rows {firstRow}..{firstRow + rows} outside 0..{Slots}.");
        }

        if (_views.TryGetValue((firstRow, rows), out OrtValue[]? cached))
        {
            return cached;
        }

        var views = new OrtValue[_buffers.Length];
        long[] shape = [rows, KvHeads, Context, HeadSize];
        for (int i = 0; i < _buffers.Length; i++)
        {
            IntPtr start = BasePointer(_buffers[i]) + (nint)(firstRow * _rowBytes);
            views[i] = OrtValue.CreateTensorValueWithData(_memoryInfo, ElementType, shape, start, rows * _rowBytes);
        }

        _views[(firstRow, rows)] = views;
        return views;
    }

    /// <summary>Copies the first <paramref name="positions"/> positions of row <paramref name="from"/> into row <paramref name="to"/> (every layer, key and value).</summary>
    internal unsafe void CopyPrefix(int from, int to, int positions)
    {
        if (from == to || positions <= 0)
        {
            return;
        }

        long elementBytes = _rowBytes / ((long)KvHeads * Context * HeadSize);
        long spanBytes = positions * HeadSize * elementBytes;
        long headBytes = (long)Context * HeadSize * elementBytes;
        foreach (OrtValue buffer in _buffers)
        {
            byte* basePtr = (byte*)BasePointer(buffer);
            for (int h = 0; h < KvHeads; h++)
            {
                byte* source = basePtr + from * _rowBytes + h * headBytes;
                byte* target = basePtr + to * _rowBytes + h * headBytes;
                Buffer.MemoryCopy(source, target, spanBytes, spanBytes);
            }
        }
    }

    /// <summary>Bytes of one element.</summary>
    public int ElementSize => (int)(_rowBytes / ((long)KvHeads * Context * HeadSize));

    /// <summary>
    /// Copies positions [<paramref name="start"/>, start + <paramref name="count"/>) of <paramref name="row"/> in buffer
    /// <paramref name="buffer"/> (graph order: layer 0 key, layer 0 value, ...) to <paramref name="target"/>, one sequence's
    /// [kvHeads, <paramref name="targetPositions"/>, headSize] block, from position <paramref name="targetStart"/> on.
    /// </summary>
    internal void Read(int buffer, int row, int start, int count, Span<byte> target, int targetPositions, int targetStart) =>
        CopyPositions(_buffers[buffer].GetTensorMutableRawData().Slice((int)(row * _rowBytes), (int)_rowBytes), Context, start, target, targetPositions, targetStart, count);

    /// <summary>
    /// Copies positions [<paramref name="sourceStart"/>, sourceStart + <paramref name="count"/>) of <paramref name="source"/>,
    /// one sequence's [kvHeads, <paramref name="sourcePositions"/>, headSize] block, into <paramref name="row"/> of buffer
    /// <paramref name="buffer"/> from position <paramref name="start"/> on.
    /// </summary>
    internal void Write(int buffer, int row, int start, int count, ReadOnlySpan<byte> source, int sourcePositions, int sourceStart) =>
        CopyPositions(source, sourcePositions, sourceStart, _buffers[buffer].GetTensorMutableRawData().Slice((int)(row * _rowBytes), (int)_rowBytes), Context, start, count);

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (OrtValue view in _views.Values.SelectMany(v => v))
        {
            view.Dispose();
        }

        _views.Clear();
        foreach (OrtValue buffer in _buffers)
        {
            buffer.Dispose();
        }
    }

    /// <summary>Per head, <paramref name="count"/> positions from one [kvHeads, positions, headSize] block to another.</summary>
    private void CopyPositions(ReadOnlySpan<byte> source, int sourcePositions, int sourceStart, Span<byte> target, int targetPositions, int targetStart, int count)
    {
        if (count <= 0)
        {
            return;
        }

        int position = HeadSize * ElementSize;
        for (int h = 0; h < KvHeads; h++)
        {
            source.Slice(((h * sourcePositions) + sourceStart) * position, count * position)
                .CopyTo(target.Slice(((h * targetPositions) + targetStart) * position, count * position));
        }
    }

    private static unsafe IntPtr BasePointer(OrtValue value)
    {
        Span<byte> data = value.GetTensorMutableRawData();
        fixed (byte* pointer = data)
        {
            return (IntPtr)pointer;
        }
    }
}
