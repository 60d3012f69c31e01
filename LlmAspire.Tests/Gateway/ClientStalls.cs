using System.Collections.Concurrent;
using System.Diagnostics;

namespace LlmAspire.Tests.Gateway;

/// <summary>
/// The intervals in which this test process itself made no progress, so a latency it measures can be told apart from
/// one the system under test caused. A loop on the thread pool (where the client's request continuations run) sleeps
/// <see cref="Tick"/> at a time and records each wake-up later than <see cref="Threshold"/>; a loop on a dedicated
/// thread does the same, so the report says whether the process as a whole stood still (a garbage collection, the
/// machine or its CPU share) or only its thread pool was starved (by tests of other collections running beside).
/// Only the thread pool's stalls are subtracted from latencies: they are what delays a response's continuation.
/// </summary>
internal sealed class ClientStalls : IAsyncDisposable
{
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(20);
    private static readonly TimeSpan Threshold = TimeSpan.FromMilliseconds(250);

    private readonly Stopwatch _clock;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentQueue<(TimeSpan From, TimeSpan To)> _pool = new();
    private readonly ConcurrentQueue<(TimeSpan From, TimeSpan To)> _thread = new();
    private readonly Task _poolLoop;
    private readonly Thread _threadLoop;

    public ClientStalls(Stopwatch clock)
    {
        _clock = clock;
        _poolLoop = Task.Run(WatchThreadPoolAsync);
        _threadLoop = new Thread(WatchThread) { IsBackground = true, Name = "client stall watch" };
        _threadLoop.Start();
    }

    /// <summary>How long of <paramref name="from"/>..<paramref name="to"/> (on the clock given) the thread pool stood still.</summary>
    public TimeSpan Within(TimeSpan from, TimeSpan to) =>
        _pool.Aggregate(TimeSpan.Zero, (sum, stall) => sum + Overlap(stall, from, to));

    public string Describe() =>
        $"thread pool {Summary(_pool)}; a dedicated thread {Summary(_thread)}";

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _poolLoop;
        _threadLoop.Join();
        _stop.Dispose();
    }

    private async Task WatchThreadPoolAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var before = _clock.Elapsed;
            try
            {
                await Task.Delay(Tick, _stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            Record(_pool, before, _clock.Elapsed);
        }
    }

    private void WatchThread()
    {
        while (!_stop.IsCancellationRequested)
        {
            var before = _clock.Elapsed;
            Thread.Sleep(Tick);
            Record(_thread, before, _clock.Elapsed);
        }
    }

    private static void Record(ConcurrentQueue<(TimeSpan From, TimeSpan To)> stalls, TimeSpan before, TimeSpan after)
    {
        if (after - before - Tick > Threshold)
        {
            stalls.Enqueue((before + Tick, after));
        }
    }

    private static TimeSpan Overlap((TimeSpan From, TimeSpan To) stall, TimeSpan from, TimeSpan to)
    {
        var overlap = (stall.To < to ? stall.To : to) - (stall.From > from ? stall.From : from);
        return overlap > TimeSpan.Zero ? overlap : TimeSpan.Zero;
    }

    private static string Summary(ConcurrentQueue<(TimeSpan From, TimeSpan To)> stalls) =>
        stalls.IsEmpty
            ? "never stalled"
            : $"stalled {stalls.Count} times, {stalls.Aggregate(TimeSpan.Zero, (sum, stall) => sum + (stall.To - stall.From)).TotalSeconds:F2} s in all, "
                + $"longest {stalls.Max(stall => stall.To - stall.From).TotalSeconds:F2} s (from {stalls.MaxBy(stall => stall.To - stall.From).From.TotalSeconds:F1} s)";
}
