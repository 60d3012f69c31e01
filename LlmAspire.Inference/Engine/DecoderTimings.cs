using System.Diagnostics;

namespace LlmAspire.Inference.Engine;

/// <summary>
/// Where the time of <see cref="DecoderSession.ForwardBatch"/> goes, accumulated in <see cref="Stopwatch"/> ticks: inside
/// ONNX Runtime's <c>Run</c>, around it (inputs, outputs, logits) and between calls (the engine's sampling, emitting and
/// scheduling). Two timestamps per call, so it is always on; written by the one engine thread, read by benchmarks.
/// </summary>
internal sealed class DecoderTimings
{
    private long _lastReturn;

    /// <summary>Forward passes counted.</summary>
    public long Calls { get; private set; }

    /// <summary>Forward passes with one token per row (decode steps).</summary>
    public long DecodeCalls { get; private set; }

    /// <summary>Ticks inside <c>InferenceSession.Run</c>.</summary>
    public long RunTicks { get; private set; }

    /// <summary>Ticks in the forward pass outside <c>Run</c>.</summary>
    public long AroundTicks { get; private set; }

    /// <summary>Ticks from one forward pass's return to the next one's start.</summary>
    public long BetweenTicks { get; private set; }

    /// <summary>Forgets what was counted; the next call starts a new gap.</summary>
    public void Reset()
    {
        (Calls, DecodeCalls, RunTicks, AroundTicks, BetweenTicks, _lastReturn) = (0, 0, 0, 0, 0, 0);
    }

    /// <summary>Adds one forward pass from its four timestamps.</summary>
    internal void Add(long start, long runStart, long runEnd, long end, bool decode)
    {
        Calls++;
        DecodeCalls += decode ? 1 : 0;
        RunTicks += runEnd - runStart;
        AroundTicks += (runStart - start) + (end - runEnd);
        BetweenTicks += _lastReturn > 0 ? start - _lastReturn : 0;
        _lastReturn = end;
    }
}
