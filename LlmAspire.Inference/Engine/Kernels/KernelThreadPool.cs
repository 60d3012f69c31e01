using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace LlmAspire.Inference.Engine.Kernels;

/// <summary>
/// The workers that run the parallel parts of our kernels (<see cref="OrtApiTable.ParallelFor"/>) for one session in
/// <see cref="SpinningMode.Brief"/>, instead of ONNX Runtime's intra-op pool. A worker that finds no work spins for at
/// most <see cref="SpinTime"/> before it sleeps: long enough to be awake for the next operator of a decode step (they
/// follow each other within tens of microseconds), short enough that a worker waiting while the machine is busy
/// elsewhere gives its core back within that time. ONNX Runtime's own workers sleep as in <see cref="SpinningMode.Off"/>,
/// whose cost is that each operator first wakes a sleeping thread, tens of microseconds in which the calling thread
/// works alone; ONNX Runtime's spinning keeps its workers busy for the whole run, however long the thread they wait for
/// is preempted.
/// </summary>
/// <remarks>
/// One job at a time, posted by the thread that runs the session (<see cref="Enter"/> makes the pool that thread's
/// <see cref="Current"/>). As ONNX Runtime's pool does, the items are split into one contiguous shard per thread, each
/// thread takes its own shard's items in order (reading the weights front to back) and then what is left of the others;
/// every shard's counter carries the job's generation in its high half, so a worker that wakes after its job ended
/// cannot take an item of the next one. The posting thread takes items too and, once none is left, waits only for the
/// items a worker is running.
/// </remarks>
internal sealed unsafe class KernelThreadPool : IDisposable
{
    /// <summary>How long an idle worker spins for the next job before it sleeps.</summary>
    public static readonly TimeSpan SpinTime = TimeSpan.FromMicroseconds(50);

    /// <summary>How long the posting thread spins for a worker's last items before it starts yielding its core.</summary>
    private static readonly TimeSpan JoinSpinTime = TimeSpan.FromMilliseconds(2);

    /// <summary>Elements between two threads' counters: 128 bytes, so no two share a cache line (or its pair).</summary>
    private const int Stride = 16;

    [ThreadStatic]
    private static KernelThreadPool? t_current;

    private readonly Worker[] _workers;
    private readonly long _spinTicks;
    private readonly long _joinSpinTicks;
    private readonly Thread[] _threads;
    /// <summary>Per thread (the posting thread first), 16 longs apart: the shard's generation (high half) and next item.</summary>
    private readonly long[] _shards;

    /// <summary>Per thread, 16 ints apart: the end of its shard.</summary>
    private readonly int[] _ends;

    private long _generation;
    private int _completed;
    private delegate* unmanaged<void*, nuint, void> _work;
    private void* _state;
    private int _posting;
    private volatile bool _disposed;

    /// <summary>Starts <paramref name="workers"/> worker threads (the posting thread is the pool's other thread).</summary>
    public KernelThreadPool(int workers)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(workers, 1);
        _spinTicks = (long)(SpinTime.TotalSeconds * Stopwatch.Frequency);
        _joinSpinTicks = (long)(JoinSpinTime.TotalSeconds * Stopwatch.Frequency);
        _workers = new Worker[workers];
        _threads = new Thread[workers];
        _shards = new long[(workers + 1) * Stride];
        _ends = new int[(workers + 1) * Stride];
        for (int i = 0; i < workers; i++)
        {
            var worker = _workers[i] = new Worker();
            int shard = i + 1;
            _threads[i] = new Thread(() => WorkerLoop(worker, shard))
            {
                IsBackground = true,
                Name = $"LlmAspire kernel worker {i + 1}",
            };
            _threads[i].Start();
        }
    }

    /// <summary>For tests: a pool whose jobs are numbered on from <paramref name="generation"/> (a counter's half wrapping).</summary>
    internal KernelThreadPool(int workers, long generation)
        : this(workers)
    {
        Interlocked.Exchange(ref _generation, generation);
    }

    /// <summary>The pool of the session this thread is running, if it runs one in <see cref="SpinningMode.Brief"/>.</summary>
    public static KernelThreadPool? Current => t_current;

    /// <summary>Threads that run a job: the workers and the posting thread.</summary>
    public int Threads => _workers.Length + 1;

    /// <summary>Makes this pool the calling thread's <see cref="Current"/> until the scope is disposed.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public Scope Enter()
    {
        var previous = t_current;
        t_current = this;
        return new Scope(previous);
    }

    /// <summary>
    /// Runs <paramref name="work"/>(<paramref name="state"/>, i) for i in [0, <paramref name="total"/>) on this thread
    /// and the workers. False, having run nothing, when another thread is running a job on the pool (a session may run
    /// on several threads at once): that caller takes ONNX Runtime's pool instead.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool TryParallelFor(delegate* unmanaged<void*, nuint, void> work, int total, void* state)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (Interlocked.CompareExchange(ref _posting, 1, 0) != 0)
        {
            return false;
        }

        try
        {
            ParallelFor(work, total, state);
            return true;
        }
        finally
        {
            Volatile.Write(ref _posting, 0);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ParallelFor(delegate* unmanaged<void*, nuint, void> work, int total, void* state)
    {
        if (total <= 1)
        {
            for (int i = 0; i < total; i++)
            {
                work(state, (nuint)i);
            }

            return;
        }

        long generation = _generation + 1;
        _work = work;
        _state = state;
        _completed = 0;
        int threads = _workers.Length + 1;

        // First every shard closed under the new generation, then the new ends, then the shards opened: a worker of the
        // previous job that reads a new end then reads a counter of the new generation and takes nothing.
        for (int t = 0; t < threads; t++)
        {
            Volatile.Write(ref _shards[t * Stride], Claim(generation, int.MaxValue));
        }

        for (int t = 0; t < threads; t++)
        {
            Volatile.Write(ref _ends[t * Stride], (int)((long)total * (t + 1) / threads));
        }

        for (int t = 0; t < threads; t++)
        {
            Volatile.Write(ref _shards[t * Stride], Claim(generation, (int)((long)total * t / threads)));
        }

        // Publishing the job (a full fence) before reading the sleep flags pairs with a worker raising its flag before
        // it reads the generation a last time: one of the two sees the other.
        Interlocked.Exchange(ref _generation, generation);
        foreach (var worker in _workers)
        {
            if (Interlocked.Exchange(ref worker.Sleeping, 0) == 1)
            {
                worker.Signal.Release();
            }
        }

        RunItems(0, generation, work, state);

        // What is left are the items a worker took and is running. Spun for, not yielded for: this thread is the step's
        // critical path, and a yield on a busy machine hands its core to another process for a whole time slice. Only a
        // wait far longer than any item (the worker preempted) yields, so a single core is not held against it.
        long yieldAfter = Stopwatch.GetTimestamp() + _joinSpinTicks;
        int spins = 0;
        while (Volatile.Read(ref _completed) != total)
        {
            if ((++spins & 63) == 0 && Stopwatch.GetTimestamp() > yieldAfter)
            {
                Thread.Yield();
            }
            else
            {
                Pause();
            }
        }
    }

    /// <summary>Stops the workers (they end once they see it).</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        foreach (var worker in _workers)
        {
            worker.Signal.Release();
        }

        foreach (var thread in _threads)
        {
            thread.Join();
        }

        foreach (var worker in _workers)
        {
            worker.Signal.Dispose();
        }
    }

    /// <summary>A shard counter: the low 32 bits of <paramref name="generation"/> (compared as such, so it may wrap) and the next item.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static long Claim(long generation, int next) => (long)(((ulong)(uint)generation << 32) | (uint)next);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Pause()
    {
        if (X86Base.IsSupported)
        {
            X86Base.Pause();
        }
        else
        {
            Thread.SpinWait(1);
        }
    }

    /// <summary>
    /// Takes and runs the items of job <paramref name="generation"/>, its own shard's first, then the other shards', until
    /// none is left.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void RunItems(int home, long generation, delegate* unmanaged<void*, nuint, void> work, void* state)
    {
        int threads = _workers.Length + 1;
        int done = 0;
        for (int i = 0; i < threads; i++)
        {
            int shard = (home + i) % threads;
            ref long counter = ref _shards[shard * Stride];
            while (true)
            {
                int end = Volatile.Read(ref _ends[shard * Stride]);
                long claim = Volatile.Read(ref counter);
                int next = (int)(uint)claim;
                if ((uint)(claim >> 32) != (uint)generation || next >= end)
                {
                    break;
                }

                if (Interlocked.CompareExchange(ref counter, claim + 1, claim) != claim)
                {
                    continue;
                }

                work(state, (nuint)next);
                done++;
            }
        }

        if (done > 0)
        {
            Interlocked.Add(ref _completed, done);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void WorkerLoop(Worker self, int shard)
    {
        long seen = 0;
        while (true)
        {
            seen = WaitForJob(self, seen);
            if (seen < 0)
            {
                return;
            }

            // The job's fields are this generation's as long as one of its items can still be claimed: the posting
            // thread writes the next job's only after every item of this one completed.
            RunItems(shard, seen, _work, _state);
        }
    }

    /// <summary>Waits for a job after generation <paramref name="seen"/>: spins up to <see cref="SpinTime"/>, then sleeps. -1 once disposed.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private long WaitForJob(Worker self, long seen)
    {
        long deadline = Stopwatch.GetTimestamp() + _spinTicks;
        int spins = 0;
        while (true)
        {
            if (_disposed)
            {
                return -1;
            }

            long generation = Volatile.Read(ref _generation);
            if (generation != seen)
            {
                return generation;
            }

            if ((++spins & 15) != 0 || Stopwatch.GetTimestamp() < deadline)
            {
                Pause();
                continue;
            }

            Interlocked.Exchange(ref self.Sleeping, 1);
            if (Volatile.Read(ref _generation) == seen && !_disposed)
            {
                self.Signal.Wait();
            }

            // A post that came between the flag and the last read may have released the semaphore without this worker
            // waiting on it; its next wait then returns at once and the loop looks again, which is harmless.
            Interlocked.Exchange(ref self.Sleeping, 0);
            deadline = Stopwatch.GetTimestamp() + _spinTicks;
        }
    }

    /// <summary>Restores the thread's previous <see cref="Current"/>.</summary>
    public readonly struct Scope(KernelThreadPool? previous) : IDisposable
    {
        public void Dispose() => t_current = previous;
    }

    private sealed class Worker
    {
        public readonly SemaphoreSlim Signal = new(0);
        public int Sleeping;
    }
}
