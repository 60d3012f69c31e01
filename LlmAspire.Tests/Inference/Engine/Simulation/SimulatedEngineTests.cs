using System.Threading.Channels;
using LlmAspire.Inference.Engine;
using LlmAspire.Inference.Engine.Simulation;
using LlmAspire.Inference.Models;
using LlmAspire.Inference.Tokenization;

namespace LlmAspire.Tests.Inference.Engine.Simulation;

/// <summary>
/// The real scheduler over <see cref="SimulatedBatchModel"/> with a pacer on a fake clock: what the latency model is
/// asked for (prompt tokens computed, simulated milliseconds), prefix hits and evictions, never wall time.
/// </summary>
public sealed class SimulatedEngineTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);
    private static readonly SentencePieceBpeTokenizer s_vocabulary = BuiltInModels.DemoVocabulary();

    [Fact]
    public async Task Generate_RepeatedPrompt_ComputesOnlyItsLastTokenAndRecitesTheSameText()
    {
        using var engine = CreateEngine(new SimulatedEngineOptions { MaxSequences = 4, ContextLength = 512 }, out SimulatedBatchModel model);
        int[] prompt = Prompt(1, 200);

        var first = await CollectAsync(engine, prompt, 12);
        long prefillBefore = model.PrefillTokens;
        double millisecondsBefore = model.SimulatedMilliseconds;
        var second = await CollectAsync(engine, prompt, 12);

        Assert.Equal(200, prefillBefore);
        Assert.Equal(1, model.PrefillTokens - prefillBefore);
        Assert.Equal(0, first[^1].CachedTokens);
        Assert.Equal(199, second[^1].CachedTokens);
        Assert.Equal(Text(first), Text(second));
        Assert.Equal(FinishReason.Length, second[^1].FinishReason);

        // The passage's text, in the demo vocabulary.
        Assert.Contains(Text(first).Trim(), SimulatedBatchModel.Passage + " " + SimulatedBatchModel.Passage, StringComparison.Ordinal);

        // 200 prompt tokens at 0.04 ms cost 8 ms the first time; the second time 0.04 ms.
        double secondMs = model.SimulatedMilliseconds - millisecondsBefore;
        Assert.InRange(millisecondsBefore - secondMs, 7.9, 8.1);
    }

    [Fact]
    public async Task Generate_PrefixesBeyondTheBudget_EvictsTheLeastRecentlyUsedFromItsEnd()
    {
        // 300 positions: three finished sequences of 80 + 9 fit, a fourth pushes the oldest prefix out from its end.
        var options = new SimulatedEngineOptions { MaxSequences = 8, ContextLength = 100, KvBudgetTokens = 300 };
        using var engine = CreateEngine(options, out _);
        int[] a = Prompt(10, 80), b = Prompt(20, 80), c = Prompt(30, 80), d = Prompt(40, 80);
        foreach (int[] prompt in new[] { a, b, c, d })
        {
            await CollectAsync(engine, prompt, 10);
        }

        var aAgain = await CollectAsync(engine, a, 10);
        var dAgain = await CollectAsync(engine, d, 10);

        Assert.InRange(aAgain[^1].CachedTokens, 1, 78); // its beginning stayed, its end went
        Assert.Equal(79, dAgain[^1].CachedTokens); // the most recent prefix stayed whole
        Assert.Equal(89 + 89 + 89 + 89 - 300, 89 - aAgain[^1].CachedTokens);
    }

    [Fact]
    public async Task Submit_MoreThanTheBudgetReserves_LaterRequestsWaitUntilRoomIsFreed()
    {
        // Each request reserves 80 + 20 = 100 positions of 300: three run, the fourth waits.
        using var gate = new ManualResetEventSlim(false);
        long now = 0;
        var pacer = new StepPacer(() => now, ms => { gate.Wait(s_timeout); now += ms; }, ticksPerSecond: 1000);
        var listener = new LoadRecorder();
        var options = new SimulatedEngineOptions { MaxSequences = 8, ContextLength = 100, KvBudgetTokens = 300, DecodeBaseMs = 5 };
        using var engine = new InferenceEngine(new SimulatedBatchModel(options, s_vocabulary, BuiltInModels.DemoConfig.VocabSize, pacer), s_vocabulary, [s_vocabulary.EosId], EngineOptions(options), listener);

        ChannelReader<GenerationUpdate>[] runs = [.. Enumerable.Range(0, 4).Select(i => engine.Submit(new GenerationRequest(Prompt(100 * (i + 1), 80), 20)))];
        gate.Set();
        var finishes = new List<FinishReason?>();
        foreach (ChannelReader<GenerationUpdate> run in runs)
        {
            await foreach (GenerationUpdate update in run.ReadAllAsync().WithCancellation(CancellationToken.None))
            {
                finishes.Add(update.FinishReason);
            }
        }

        Assert.Equal(4, finishes.Count(reason => reason == FinishReason.Length));

        Assert.Equal(3, listener.MaxRunning);
        Assert.True(listener.WaitingWhileFull, "no step saw a request waiting beside three running ones");
    }

    private static InferenceEngine CreateEngine(SimulatedEngineOptions options, out SimulatedBatchModel model)
    {
        long now = 0;
        var pacer = new StepPacer(() => now, ms => now += ms, ticksPerSecond: 1000);
        model = new SimulatedBatchModel(options, s_vocabulary, BuiltInModels.DemoConfig.VocabSize, pacer);
        return new InferenceEngine(model, s_vocabulary, [s_vocabulary.EosId], EngineOptions(options));
    }

    private static EngineOptions EngineOptions(SimulatedEngineOptions options) =>
        new() { MaxSequences = options.MaxSequences, MaxContext = options.ContextLength, PrefillChunkTokens = options.PrefillChunkTokens };

    /// <summary><paramref name="count"/> distinct printable tokens from <paramref name="start"/>, the same for the same arguments.</summary>
    private static int[] Prompt(int start, int count) => [.. Enumerable.Range(start, count).Select(i => 259 + (i * 7 % 95))];

    private static async Task<List<GenerationUpdate>> CollectAsync(InferenceEngine engine, int[] prompt, int maxTokens)
    {
        var updates = new List<GenerationUpdate>();
        await foreach (GenerationUpdate update in engine.GenerateAsync(new GenerationRequest(prompt, maxTokens, Temperature: 0)).WithCancellation(CancellationToken.None))
        {
            updates.Add(update);
        }

        return updates;
    }

    private static string Text(List<GenerationUpdate> updates) => string.Concat(updates.Select(u => u.Text));

    /// <summary>The most requests seen running at once, and whether any step had one waiting while three ran.</summary>
    private sealed class LoadRecorder : IEngineListener
    {
        private int _maxRunning;
        private int _waitingWhileFull;

        public int MaxRunning => Volatile.Read(ref _maxRunning);

        public bool WaitingWhileFull => Volatile.Read(ref _waitingWhileFull) != 0;

        public void StepCompleted(int running, int waiting, double kvUsage)
        {
            if (running > _maxRunning)
            {
                Volatile.Write(ref _maxRunning, running);
            }

            if (running == 3 && waiting > 0)
            {
                Volatile.Write(ref _waitingWhileFull, 1);
            }
        }
    }
}
