using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace LlmAspire.Inference.Engine;

/// <summary>The KV cache of one sequence: the present tensors of the last step, fed back as the next step's past.</summary>
internal sealed class DecoderState : IDisposable
{
    private readonly OrtValue[] _empty;
    private IDisposableReadOnlyCollection<OrtValue>? _last;

    internal DecoderState(int layers, int kvHeads, int headSize, TensorElementType elementType)
    {
        _empty = new OrtValue[layers * 2];
        long[] shape = [1, kvHeads, 0, headSize];
        for (int i = 0; i < _empty.Length; i++)
        {
            _empty[i] = OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, elementType, shape);
        }
    }

    /// <summary>Positions held in the cache.</summary>
    public int Length { get; private set; }

    internal void CopyPastInto(OrtValue[] inputs, int offset)
    {
        for (int i = 0; i < _empty.Length; i++)
        {
            // Outputs are [logits, present.0.key, present.0.value, ...]: the same order as the past inputs.
            inputs[offset + i] = _last is null ? _empty[i] : _last[i + 1];
        }
    }

    internal void Advance(IDisposableReadOnlyCollection<OrtValue> outputs, int tokens)
    {
        _last?.Dispose();
        _last = outputs;
        Length += tokens;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _last?.Dispose();
        _last = null;
        foreach (OrtValue value in _empty)
        {
            value.Dispose();
        }
    }
}
