using LlmAspire.Inference.Models;
using Microsoft.ML.OnnxRuntime;

namespace LlmAspire.Inference.Engine;

/// <summary>The KV cache of one sequence: the present tensors of the last step, fed back as the next step's past.</summary>
public sealed class DecoderState : IDisposable
{
    private readonly OrtValue[] _empty;
    private IDisposableReadOnlyCollection<OrtValue>? _last;

    internal DecoderState(LlamaConfig config)
    {
        _empty = new OrtValue[config.Layers * 2];
        long[] shape = [1, config.KvHeads, 0, config.AttentionHeadSize];
        for (int i = 0; i < _empty.Length; i++)
        {
            _empty[i] = OrtValue.CreateTensorValueFromMemory(Array.Empty<float>(), shape);
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
