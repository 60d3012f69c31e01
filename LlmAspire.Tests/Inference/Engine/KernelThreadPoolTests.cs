using System.Runtime.InteropServices;
using LlmAspire.Inference.Engine;
using LlmAspire.Inference.Engine.Kernels;
using LlmAspire.Inference.Models;

namespace LlmAspire.Tests.Inference.Engine;

/// <summary>
/// The session's own workers of <see cref="SpinningMode.Brief"/> (<see cref="KernelThreadPool"/>): every item of every
/// job runs exactly once, whatever the item counts and however many workers; workers that went to sleep wake for the
/// next job and take part; a second thread posting while a job runs is refused (it takes ONNX Runtime's pool), not
/// mixed into the job; and a decoder in Brief gives the logits of <see cref="SpinningMode.Off"/> to the bit, also run
/// from two threads at once.
/// </summary>
public sealed class KernelThreadPoolTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public unsafe void EveryItemOfEveryJob_RunsExactlyOnce(int workers)
    {
        using var pool = new KernelThreadPool(workers);
        int[] totals = [0, 1, 2, 3, 4, 5, 7, 64, 333, 1000];
        var counts = new int[1000];
        fixed (int* pointer = counts)
        {
            var state = new ItemState { Counts = pointer };
            for (int job = 0; job < 3000; job++)
            {
                int total = totals[job % totals.Length];
                Array.Clear(counts);
                Assert.True(pool.TryParallelFor(&Count, total, &state));
                for (int i = 0; i < counts.Length; i++)
                {
                    if (counts[i] != (i < total ? 1 : 0))
                    {
                        Assert.Fail($"job {job} of {total} items: item {i} ran {counts[i]} times");
                    }
                }
            }
        }
    }

    /// <summary>Job numbers are kept in 32 bits of each shard's counter: past 2³¹ and 2³² jobs (days of serving) they wrap, and every item still runs once.</summary>
    [Theory]
    [InlineData((1L << 31) - 3)]
    [InlineData((1L << 32) - 3)]
    public unsafe void JobNumbersPastTheCountersHalf_StillRunEveryItemOnce(long generation)
    {
        using var pool = new KernelThreadPool(1, generation);
        const int Items = 100;
        var counts = (int*)NativeMemory.AllocZeroed(Items * sizeof(int));
        var state = (ItemState*)NativeMemory.AllocZeroed((nuint)sizeof(ItemState));
        string? failure = null;
        try
        {
            state->Counts = counts;

            // On a thread of its own: a job no thread can claim an item of would wait for ever.
            var poster = new Thread(() =>
            {
                for (int job = 0; job < 10 && failure is null; job++)
                {
                    new Span<int>(counts, Items).Clear();
                    if (!pool.TryParallelFor(&Count, Items, state) || new Span<int>(counts, Items).ContainsAnyExcept(1))
                    {
                        failure = $"job {job} after {generation}: not every item ran once";
                    }
                }
            });
            poster.Start();
            Assert.True(poster.Join(TimeSpan.FromSeconds(60)), $"jobs after {generation} never completed");
            Assert.Null(failure);
        }
        finally
        {
            NativeMemory.Free(counts);
            NativeMemory.Free(state);
        }
    }

    [Fact]
    public unsafe void WorkersThatWentToSleep_WakeForTheNextJob_AndTakeItems()
    {
        using var pool = new KernelThreadPool(1);
        var threads = new int[64];
        fixed (int* pointer = threads)
        {
            var state = new ItemState { Threads = pointer, SpinPerItem = 200_000 };
            for (int round = 0; round < 5; round++)
            {
                // Far longer than the spin: the worker is asleep on its semaphore when the job comes.
                Thread.Sleep(KernelThreadPool.SpinTime * 100);
                Array.Clear(threads);
                Assert.True(pool.TryParallelFor(&Count, threads.Length, &state));
                Assert.DoesNotContain(0, threads);
                if (threads.Distinct().Count() == 2)
                {
                    return;
                }
            }
        }

        Assert.Fail("In 5 jobs of 64 slow items after a sleep, the worker never took an item: it did not wake.");
    }

    [Fact]
    public unsafe void ASecondThreadPostingWhileAJobRuns_IsRefused_AndTheJobCompletes()
    {
        using var pool = new KernelThreadPool(1);
        using var started = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var gate = GCHandle.Alloc((started, release));
        var blocking = (ItemState*)NativeMemory.AllocZeroed((nuint)sizeof(ItemState));
        var counts = (int*)NativeMemory.AllocZeroed(4 * sizeof(int));
        bool firstPosted = false;
        var first = new Thread(() => firstPosted = pool.TryParallelFor(&Count, 4, blocking));
        try
        {
            blocking->Counts = counts;
            blocking->Gate = GCHandle.ToIntPtr(gate);
            first.Start();
            Assert.True(started.Wait(TimeSpan.FromSeconds(30)));

            var other = new int[8];
            fixed (int* otherPointer = other)
            {
                var state = new ItemState { Counts = otherPointer };
                Assert.False(pool.TryParallelFor(&Count, 8, &state));
            }

            Assert.All(other, count => Assert.Equal(0, count));
            release.Set();
            Assert.True(first.Join(TimeSpan.FromSeconds(30)));
            Assert.True(firstPosted);
            Assert.Equal([1, 1, 1, 1], new ReadOnlySpan<int>(counts, 4).ToArray());
        }
        finally
        {
            release.Set();
            first.Join(TimeSpan.FromSeconds(30));
            gate.Free();
            NativeMemory.Free(blocking);
            NativeMemory.Free(counts);
        }
    }

    /// <summary>
    /// The widened tiny demo decoder, every weight MatMul packed, opened Off and Brief on three threads (two workers
    /// on this 2-core machine): the logits of a prefill and 20 decode steps equal to the bit, since each item computes
    /// whole outputs whichever thread runs it — and again with two sequences run from two threads at once (a kernel
    /// that finds the pool busy with the other's job takes ONNX Runtime's pool).
    /// </summary>
    [Avx512Fact]
    public async Task Decoder_SameLogitsInBriefAsOff_AlsoFromTwoThreadsAtOnce()
    {
        using var temp = TestPaths.CreateTempDirectory();
        (string graph, LlamaConfig config, DecoderIoNames names) = KernelTestGraphs.WidenedTinyDecoder(temp.Path);
        using DecoderSession off = DecoderSession.Open(graph, config, ExecutionProviderPreference.Cpu, names, 3, SpinningMode.Off);
        using DecoderSession brief = DecoderSession.Open(graph, config, ExecutionProviderPreference.Cpu, names, 3, SpinningMode.Brief);
        Assert.Null(off.KernelPool);
        Assert.NotNull(brief.KernelPool);
        Assert.Equal(SpinningMode.Brief, brief.Spinning);
        Assert.True(brief.PackedMatMuls >= 4 * config.Layers, $"{brief.PackedMatMuls} MatMuls packed");

        var random = new Random(11);
        int[][] prompts = [[.. Enumerable.Range(0, 40).Select(_ => random.Next(config.VocabSize))], [.. Enumerable.Range(0, 23).Select(_ => random.Next(config.VocabSize))]];
        int[][] steps = [[.. Enumerable.Range(0, 20).Select(_ => random.Next(config.VocabSize))], [.. Enumerable.Range(0, 20).Select(_ => random.Next(config.VocabSize))]];
        List<float[]> Decode(DecoderSession session, int sequence)
        {
            using DecoderState state = session.CreateState();
            var logits = new List<float[]> { session.Forward(state, prompts[sequence], allPositions: true) };
            foreach (int token in steps[sequence])
            {
                logits.Add(session.Forward(state, [token]));
            }

            return logits;
        }

        List<float[]>[] expected = [Decode(off, 0), Decode(off, 1)];
        Assert.Equal(expected[0], Decode(brief, 0));

        List<float[]>[] together = await Task.WhenAll(Task.Run(() => Decode(brief, 0)), Task.Run(() => Decode(brief, 1))).WaitAsync(TimeSpan.FromMinutes(2));
        Assert.Equal(expected[0], together[0]);
        Assert.Equal(expected[1], together[1]);
    }

    [UnmanagedCallersOnly]
    private static unsafe void Count(void* state, nuint index)
    {
        var item = (ItemState*)state;
        if (item->Gate != IntPtr.Zero)
        {
            var (started, release) = ((ManualResetEventSlim, ManualResetEventSlim))GCHandle.FromIntPtr(item->Gate).Target!;
            started.Set();
            release.Wait();
        }

        if (item->Counts != null)
        {
            Interlocked.Increment(ref item->Counts[index]);
        }

        if (item->Threads != null)
        {
            item->Threads[index] = Environment.CurrentManagedThreadId;
        }

        Thread.SpinWait(item->SpinPerItem);
    }

    private unsafe struct ItemState
    {
        public int* Counts;
        public int* Threads;
        public int SpinPerItem;
        public IntPtr Gate;
    }
}
