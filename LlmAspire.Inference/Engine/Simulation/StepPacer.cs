using System.Diagnostics;

namespace LlmAspire.Inference.Engine.Simulation;

/// <summary>
/// Sleeps for simulated durations without drifting: Thread.Sleep is whole milliseconds and wakes late under load, so
/// the time actually slept beyond (or short of) each duration is carried into the next one. Over many passes the
/// average matches the latency model, while one pass may run up to <see cref="MaxCarryMs"/> long or 1 ms short.
/// </summary>
internal sealed class StepPacer
{
    /// <summary>The most lateness carried: a long stall (a GC pause, a descheduled process) is not made up by passes of zero time.</summary>
    public const double MaxCarryMs = 20;

    private readonly Func<long> _clock;
    private readonly Action<int> _sleep;
    private readonly double _ticksPerMs;
    private double _carryMs;

    /// <summary>Paces with the real clock and <see cref="Thread.Sleep(int)"/>.</summary>
    public StepPacer()
        : this(Stopwatch.GetTimestamp, Thread.Sleep, Stopwatch.Frequency)
    {
    }

    /// <summary>Paces with <paramref name="clock"/> (ticks, <paramref name="ticksPerSecond"/> a second) and <paramref name="sleep"/> (whole milliseconds).</summary>
    public StepPacer(Func<long> clock, Action<int> sleep, long ticksPerSecond)
    {
        _clock = clock ?? throw new ArgumentNullException(nameof(clock));
        _sleep = sleep ?? throw new ArgumentNullException(nameof(sleep));
        ArgumentOutOfRangeException.ThrowIfLessThan(ticksPerSecond, 1);
        _ticksPerMs = ticksPerSecond / 1000.0;
    }

    /// <summary>Time slept beyond the durations asked so far (negative: short of them), at most <see cref="MaxCarryMs"/>.</summary>
    public double CarryMs => _carryMs;

    /// <summary>Sleeps about <paramref name="milliseconds"/>, less what earlier calls overslept.</summary>
    public void Wait(double milliseconds)
    {
        if (milliseconds <= 0)
        {
            return;
        }

        long start = _clock();
        double want = milliseconds - _carryMs;
        double elapsed = 0;
        while (want - elapsed >= 1)
        {
            _sleep((int)(want - elapsed));
            elapsed = (_clock() - start) / _ticksPerMs;
        }

        _carryMs = Math.Clamp(_carryMs + elapsed - milliseconds, -1, MaxCarryMs);
    }
}
