using Microsoft.ML.OnnxRuntime;

namespace LlmAspire.Inference.Engine;

/// <summary>
/// What one caller of <see cref="DecoderSession.ForwardBatch"/> reuses from pass to pass instead of allocating it every
/// step: the logits arrays it is handed back (of exact length; the few lengths used last are kept, since a decode step's
/// length changes only when a sequence joins or leaves) and the input and output arrays of the Run. A step of
/// stories260K at 4 streams allocated 10 KiB, 8 of them logits (a 32k vocabulary makes that 128 KiB per row, on the
/// large-object heap from 7 rows up); fresh gen-0 memory on every step costs page faults and cache misses, and the
/// collections that follow. The logits are valid until the next pass (<see cref="IBatchModel.Forward"/>'s contract).
/// One engine thread uses an instance; it is not thread-safe.
/// </summary>
internal sealed class ForwardBuffers
{
    /// <summary>Logits arrays kept: a decode step's, a prompt chunk's and a speculative check's.</summary>
    private const int Kept = 3;

    private readonly float[]?[] _logits = new float[Kept][];
    private int _oldest;

    public ForwardBuffers(int inputs, int outputs)
    {
        Inputs = new OrtValue[inputs];
        Outputs = new OrtValue[outputs];
    }

    /// <summary>The Run's inputs, one per graph input.</summary>
    public OrtValue[] Inputs { get; }

    /// <summary>The Run's outputs, one per graph output.</summary>
    public OrtValue[] Outputs { get; }

    /// <summary>A float array of exactly <paramref name="length"/> elements, the same one as last time this length was asked for when it was kept.</summary>
    public float[] Logits(int length)
    {
        for (int i = 0; i < Kept; i++)
        {
            if (_logits[i] is { } kept && kept.Length == length)
            {
                return kept;
            }
        }

        var logits = new float[length];
        _logits[_oldest] = logits;
        _oldest = (_oldest + 1) % Kept;
        return logits;
    }
}
