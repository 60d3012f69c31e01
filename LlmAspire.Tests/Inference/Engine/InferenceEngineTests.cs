using System.Threading.Channels;
using LlmAspire.Inference.Engine;
using LlmAspire.Inference.Models;

namespace LlmAspire.Tests.Inference.Engine;

/// <summary>The scheduler over a fake model: plain C#, no ONNX Runtime.</summary>
public sealed class InferenceEngineTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);
    private static readonly LlmAspire.Inference.Tokenization.SentencePieceBpeTokenizer Vocabulary = BuiltInModels.DemoVocabulary();

    [Fact]
    public async Task Generate_SixteenConcurrentPromptsOfDifferentLengths_EachEqualsItsRunAlone()
    {
        int[][] prompts = [.. Enumerable.Range(0, 16).Select(i => Enumerable.Range(1, 3 + i * 2).Select(t => (t * 13 + i) % 40 + 3).ToArray())];
        var alone = new List<string>();
        foreach (int[] prompt in prompts)
        {
            using var single = CreateEngine(out _, slots: 1);
            alone.Add(await CollectAsync(single, Greedy(prompt, 12)));
        }

        using var engine = CreateEngine(out FakeBatchModel model, slots: 16);
        string[] together = await Task.WhenAll(prompts.Select(p => CollectAsync(engine, Greedy(p, 12))));

        Assert.Equal(alone, together);
        Assert.Contains(model.CallsWith(1), rows => rows > 1); // decode steps really were batched
    }

    [Fact]
    public async Task Generate_SeededSampling_SameAloneAndInABatch()
    {
        GenerationRequest Seeded(int[] prompt) => new(prompt, 15, Temperature: 1.2f, TopP: 0.95f, Seed: 7) { TopK = 20 };
        int[] prompt = [3, 9, 27, 4];
        using var single = CreateEngine(out _, slots: 1);
        string alone = await CollectAsync(single, Seeded(prompt));

        using var engine = CreateEngine(out _, slots: 8);
        Task<string>[] others = [.. Enumerable.Range(0, 7).Select(i => CollectAsync(engine, new GenerationRequest([5, i + 3, 8], 20, Temperature: 1f, Seed: i)))];
        string batched = await CollectAsync(engine, Seeded(prompt));
        await Task.WhenAll(others);

        Assert.Equal(alone, batched);
    }

    [Fact]
    public async Task Generate_RepeatedPrompt_ReusesTheCachedPrefixAndReportsIt()
    {
        using var engine = CreateEngine(out FakeBatchModel model, slots: 2);
        int[] prompt = [.. Enumerable.Range(3, 30)];
        var first = await CollectUpdatesAsync(engine, Greedy(prompt, 5));
        int callsBefore = model.Calls.Count;
        var second = await CollectUpdatesAsync(engine, Greedy(prompt, 5));

        Assert.Equal(0, first[^1].CachedTokens);
        Assert.Equal(prompt.Length - 1, second[^1].CachedTokens);
        Assert.Equal(Text(first), Text(second));
        // The second prompt computed only its last token.
        Assert.DoesNotContain(model.Calls.Skip(callsBefore), c => c.TokensPerRow > 1);
    }

    [Fact]
    public async Task Generate_CachedPromptsArrivingTogether_RideTheDecodePassInsteadOfAPassEach()
    {
        using var engine = CreateEngine(out FakeBatchModel model, slots: 6);
        int[] prompt = [.. Enumerable.Range(3, 30)];
        string alone = await CollectAsync(engine, Greedy(prompt, 5));

        // One stream decodes (slowed down, so that it still does then); the engine is held inside its pass while four
        // requests for the cached prompt arrive.
        model.OnForward = () => Thread.Sleep(5);
        ChannelReader<GenerationUpdate> running = engine.Submit(Greedy([40, 41, 42], 200));
        await running.WaitToReadAsync().AsTask().WaitAsync(Timeout);
        using PassHold hold = model.HoldNextPass();
        Assert.True(await hold.EnteredAsync());
        int callsBefore = hold.CallsBefore;
        Task<string>[] again = [.. Enumerable.Range(0, 4).Select(_ => CollectAsync(engine, Greedy(prompt, 5)))];
        hold.Release();
        string[] texts = await Task.WhenAll(again).WaitAsync(Timeout);
        await DrainAsync(running);

        Assert.All(texts, text => Assert.Equal(alone, text));
        // Each computed only its last prompt token, and in the decode pass (from row 0, one token a row) beside the
        // running stream, never in a pass of its own row.
        var after = model.Calls.Skip(callsBefore).ToList();
        Assert.All(after, call => Assert.Equal((0, 1), (call.FirstRow, call.TokensPerRow)));
        Assert.Contains(after, call => call.Rows >= 5);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Generate_NewPromptsArrivingTogether_ShareOnePrefillPassWhereTheModelTakesSeveralRows(bool severalRows)
    {
        // Four prompts of similar lengths (10 to 12 tokens: 48 padded positions for 45 real ones), and one far longer.
        int[][] similar = [.. new[] { 10, 11, 12, 12 }.Select((length, i) => Enumerable.Range(0, length).Select(t => 3 + ((t * 7 + i) % 40)).ToArray())];
        int[] longer = [.. Enumerable.Range(0, 60).Select(t => 3 + ((t + 27) % 37))]; // shares no first token with the others
        var alone = new List<string>();
        foreach (int[] prompt in similar.Append(longer))
        {
            using var single = CreateEngine(out _, slots: 1);
            alone.Add(await CollectAsync(single, Greedy(prompt, 6)));
        }

        using var engine = CreateEngine(out FakeBatchModel model, slots: 5, severalRows: severalRows);
        var together = await HoldAndSubmitAsync(engine, model, similar.Select(p => Greedy(p, 6)));
        var withLonger = await HoldAndSubmitAsync(engine, model, [Greedy(similar[0], 6), Greedy(longer, 6)]);

        Assert.Equal(alone[..4], together.Texts);
        Assert.Equal([alone[0], alone[4]], withLonger.Texts);
        // Together: one pass of (at least) the four rows at the longest prompt's width, where the model takes several
        // rows at once; else one pass per prompt. The first prompt again is cached (its last token rides the decode
        // pass), so the long one is computed alone either way.
        var prompts = together.Calls.Where(c => c.TokensPerRow > 1).ToList();
        if (severalRows)
        {
            Assert.Equal((1, 12), (prompts.Count, prompts[0].TokensPerRow));
            Assert.InRange(prompts[0].Rows, 4, 5);
        }
        else
        {
            Assert.Equal([10, 11, 12, 12], prompts.Select(c => c.TokensPerRow).Order());
            Assert.All(prompts, c => Assert.Equal(1, c.Rows));
        }

        Assert.Equal([(1, 60)], withLonger.Calls.Where(c => c.TokensPerRow > 1).Select(c => (c.Rows, c.TokensPerRow)));
    }

    [Fact]
    public async Task Generate_NewPromptsOfVeryDifferentLengths_AreNotPaddedIntoOnePass()
    {
        int[] shortPrompt = [3, 4, 5], longPrompt = [.. Enumerable.Range(0, 40).Select(t => 3 + (t % 30))];
        using var engine = CreateEngine(out FakeBatchModel model, slots: 2, severalRows: true);

        var result = await HoldAndSubmitAsync(engine, model, [Greedy(shortPrompt, 4), Greedy(longPrompt, 4)]);

        // 2 rows x 40 positions would compute 37 of padding to save one pass: each prompt takes its own.
        Assert.Equal([(1, 3), (1, 40)], result.Calls.Where(c => c.TokensPerRow > 1).Select(c => (c.Rows, c.TokensPerRow)).Order());
        using var single = CreateEngine(out _, slots: 1);
        Assert.Equal(await CollectAsync(single, Greedy(longPrompt, 4)), result.Texts[1]);
    }

    /// <summary>
    /// Submits <paramref name="requests"/> while the engine is held inside a pass (a running request keeps it busy), so
    /// they arrive in the same step; returns their texts and the passes made from then on.
    /// </summary>
    private static async Task<(string[] Texts, List<(int FirstRow, int Rows, int TokensPerRow)> Calls)> HoldAndSubmitAsync(InferenceEngine engine, FakeBatchModel model, IEnumerable<GenerationRequest> requests)
    {
        using PassHold hold = model.HoldNextPass();
        ChannelReader<GenerationUpdate> holder = engine.Submit(Greedy([41], 1)); // a one-token prompt: a decode pass
        Assert.True(await hold.EnteredAsync());
        Task<string>[] texts = [.. requests.Select(r => CollectAsync(engine, r))];
        hold.Release();
        await DrainAsync(holder);
        string[] done = await Task.WhenAll(texts).WaitAsync(Timeout);
        return (done, [.. model.Calls.Skip(hold.CallsBefore)]);
    }

    [Fact]
    public async Task Generate_SharedSystemPrompt_CopiesThePrefixFromARunningSequence()
    {
        using var engine = CreateEngine(out _, slots: 2);
        int[] system = [.. Enumerable.Range(3, 20)];
        ChannelReader<GenerationUpdate> running = engine.Submit(Greedy([.. system, 40, 41], 200));
        await running.WaitToReadAsync().AsTask().WaitAsync(Timeout); // the first is decoding

        var second = await CollectUpdatesAsync(engine, Greedy([.. system, 30, 31, 32], 4));

        Assert.Equal(system.Length, second[^1].CachedTokens);
        using var fresh = CreateEngine(out _, slots: 1);
        Assert.Equal(await CollectAsync(fresh, Greedy([.. system, 30, 31, 32], 4)), Text(second));
    }

    [Fact]
    public async Task Generate_LongPrompt_IsPrefilledInChunksWhileOtherStreamsKeepDecoding()
    {
        using var engine = CreateEngine(out FakeBatchModel model, slots: 2, chunk: 4);
        using var submitted = new ManualResetEventSlim(false);

        // The first stream stops after its first step until the second prompt is in: it is still decoding then.
        model.OnForward = () =>
        {
            if (model.Calls.Count >= 2)
            {
                submitted.Wait(Timeout);
            }
        };
        ChannelReader<GenerationUpdate> stream = engine.Submit(Greedy([3, 4, 5], 240));
        await stream.WaitToReadAsync().AsTask().WaitAsync(Timeout);
        int start = model.Calls.Count;
        Task<string> second = CollectAsync(engine, Greedy([.. Enumerable.Range(10, 18)], 3));
        submitted.Set();
        string text = await second.WaitAsync(Timeout);
        await DrainAsync(stream);

        var calls = model.Calls.Skip(start).ToList();
        Assert.All(calls.Where(c => c.TokensPerRow > 1), c => Assert.True(c.TokensPerRow <= 4));
        Assert.Equal(5, calls.Count(c => c.TokensPerRow > 1)); // 18 tokens in chunks of 4: 4, 4, 4, 4, 2
        // Between prompt chunks the running stream still decoded.
        int firstChunk = calls.FindIndex(c => c.TokensPerRow > 1);
        int lastChunk = calls.FindLastIndex(c => c.TokensPerRow > 1);
        Assert.Contains(calls.Skip(firstChunk).Take(lastChunk - firstChunk), c => c.TokensPerRow == 1);
        Assert.NotEmpty(text);
    }

    [Fact]
    public async Task Cancel_RunningRequest_FreesItsRowForTheNext()
    {
        using var engine = CreateEngine(out FakeBatchModel model, slots: 1);
        using var cancelled = new ManualResetEventSlim(false);
        model.OnForward = () =>
        {
            if (model.Calls.Count >= 2)
            {
                cancelled.Wait(Timeout); // hold the second step until the client has gone
            }
        };
        using var cts = new CancellationTokenSource();
        ChannelReader<GenerationUpdate> stream = engine.Submit(Greedy([3, 4], 200), cts.Token);
        await stream.WaitToReadAsync().AsTask().WaitAsync(Timeout);
        Assert.Equal(1, engine.Running);

        await cts.CancelAsync();
        cancelled.Set();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => DrainAsync(stream));
        Assert.Equal(0, engine.Running);
        Assert.True(model.Calls.Count <= 3, $"freed within one step of the cancellation ({model.Calls.Count} forward passes)");
        model.OnForward = null;
        Assert.NotEmpty(await CollectAsync(engine, Greedy([5, 6], 3)));
    }

    [Fact]
    public async Task Submit_BeyondTheQueue_IsRefused()
    {
        using var gate = new ManualResetEventSlim(false);
        using var engine = CreateEngine(out FakeBatchModel model, slots: 1, queue: 1);
        model.OnForward = () => gate.Wait(Timeout);
        ChannelReader<GenerationUpdate> running = engine.Submit(Greedy([3], 5));
        SpinWait.SpinUntil(() => engine.Running == 1, Timeout);
        ChannelReader<GenerationUpdate> waiting = engine.Submit(Greedy([4], 5));

        var refused = Assert.Throws<EngineQueueFullException>(() => engine.Submit(Greedy([5], 5)));

        Assert.Equal(1, refused.Waiting);
        gate.Set();
        await DrainAsync(running);
        await DrainAsync(waiting);
    }

    [Fact]
    public async Task Submit_Burst_IsAcceptedUpToTheFreeRowsPlusTheQueue()
    {
        using var gate = new ManualResetEventSlim(false);
        using var engine = CreateEngine(out FakeBatchModel model, slots: 4, queue: 2);
        model.OnForward = () => gate.Wait(Timeout);
        var readers = new List<ChannelReader<GenerationUpdate>> { engine.Submit(Greedy([3], 3)) };
        SpinWait.SpinUntil(() => engine.Running == 1, Timeout);

        // The engine thread is busy: three rows are still free and two may wait beyond them.
        for (int i = 0; i < 5; i++)
        {
            readers.Add(engine.Submit(Greedy([4 + i], 3)));
        }

        Assert.Throws<EngineQueueFullException>(() => engine.Submit(Greedy([9], 3)));
        gate.Set();
        foreach (ChannelReader<GenerationUpdate> reader in readers)
        {
            await DrainAsync(reader);
        }
    }

    [Fact]
    public async Task Forward_FailsMidGeneration_StreamEndsWithTheErrorAndTheRowIsFreed()
    {
        using var engine = CreateEngine(out FakeBatchModel model, slots: 1);
        model.OnForward = () =>
        {
            if (model.Calls.Count == 3)
            {
                throw new InvalidOperationException("device lost");
            }
        };
        var received = new List<GenerationUpdate>();
        ChannelReader<GenerationUpdate> stream = engine.Submit(Greedy([3, 4, 5], 50));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(async () =>
        {
            await foreach (GenerationUpdate update in stream.ReadAllAsync().WithCancellation(CancellationToken.None))
            {
                received.Add(update);
            }
        });

        Assert.Equal("device lost", error.Message);
        Assert.NotEmpty(received); // the stream had begun
        Assert.All(received, update => Assert.Null(update.FinishReason));
        Assert.Equal(0, engine.Running);
        model.OnForward = null;
        Assert.NotEmpty(await CollectAsync(engine, Greedy([6, 7], 3)));
    }

    [Fact]
    public async Task Updates_CarryTheEnginesQueueTimeAndTimeToFirstToken()
    {
        using var gate = new ManualResetEventSlim(false);
        using var engine = CreateEngine(out FakeBatchModel model, slots: 1);
        model.OnForward = () => gate.Wait(Timeout);
        ChannelReader<GenerationUpdate> first = engine.Submit(Greedy([3, 4], 5));
        SpinWait.SpinUntil(() => engine.Running == 1, Timeout);
        ChannelReader<GenerationUpdate> second = engine.Submit(Greedy([5, 6], 5)); // waits for the only row
        gate.Set();
        await DrainAsync(first);

        var updates = new List<GenerationUpdate>();
        await foreach (GenerationUpdate update in second.ReadAllAsync().WithCancellation(CancellationToken.None))
        {
            updates.Add(update);
        }

        Assert.All(updates, update =>
        {
            Assert.True(update.QueueTime > TimeSpan.Zero);
            Assert.True(update.TimeToFirstToken >= update.QueueTime);
        });
    }

    [Fact]
    public void Submit_PromptPlusMaxTokensBeyondTheContext_IsContextLengthExceeded()
    {
        using var engine = CreateEngine(out _, slots: 1, context: 32);

        var error = Assert.Throws<ContextLengthExceededException>(() => engine.Submit(Greedy([.. Enumerable.Range(3, 20)], 13)));

        // The engine reports the numbers; the budget, not the prompt, is what does not fit.
        Assert.False(error.PromptTooLong);
        Assert.Equal((32, 20, 13), (error.Context, error.PromptTokens, error.MaxTokens));
    }

    [Fact]
    public async Task Generate_NChoices_ShareOnePrefillAndEachFinishes()
    {
        using var engine = CreateEngine(out FakeBatchModel model, slots: 4);
        int[] prompt = [.. Enumerable.Range(3, 12)];

        var updates = await CollectUpdatesAsync(engine, new GenerationRequest(prompt, 6, Temperature: 1f, Seed: 3) { N = 3 });

        Assert.Equal([0, 1, 2], updates.Where(u => u.FinishReason is not null).Select(u => u.Index).Order());
        Assert.Single(model.Calls, c => c.TokensPerRow == prompt.Length);
        string[] texts = [.. Enumerable.Range(0, 3).Select(i => string.Concat(updates.Where(u => u.Index == i).Select(u => u.Text)))];
        Assert.True(texts.Distinct().Count() > 1, "differently seeded choices should differ");
    }

    [Fact]
    public async Task Generate_Logprobs_GivesEachTokenAndItsTopAlternatives()
    {
        using var engine = CreateEngine(out _, slots: 1);

        var updates = await CollectUpdatesAsync(engine, Greedy([3, 4, 5], 4) with { Logprobs = true, TopLogprobs = 3 });

        var logprobs = updates.SelectMany(u => u.Logprobs ?? []).ToList();
        Assert.Equal(4, logprobs.Count);
        Assert.All(logprobs, lp =>
        {
            Assert.Equal(3, lp.TopLogprobs.Count);
            Assert.True(lp.Logprob <= 0);
            Assert.Equal(lp.TokenId, lp.TopLogprobs[0].TokenId); // greedy picks the most likely
            Assert.True(lp.TopLogprobs[0].Logprob >= lp.TopLogprobs[1].Logprob);
        });
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Generate_FinalOnly_GivesEachChoiceOneUpdateWithAllItsStreamedOutput(bool logprobs)
    {
        using var engine = CreateEngine(out _, slots: 4);
        var request = new GenerationRequest([3, 4, 5, 6], 9, Temperature: 1f, Seed: 11) { N = 3, Logprobs = logprobs, TopLogprobs = logprobs ? 2 : 0 };

        var streamed = await CollectUpdatesAsync(engine, request);
        var final = await CollectUpdatesAsync(engine, request with { FinalOnly = true });

        // One update per choice, the finishing one, carrying what the streamed updates carried between them.
        Assert.Equal([0, 1, 2], final.Select(u => u.Index).Order());
        Assert.All(final, u => Assert.NotNull(u.FinishReason));
        Assert.True(streamed.Count > final.Count);
        foreach (GenerationUpdate update in final)
        {
            var same = streamed.Where(u => u.Index == update.Index).ToList();
            Assert.Equal(string.Concat(same.Select(u => u.Text)), update.Text);
            Assert.Equal(same[^1].TokenIds, update.TokenIds);
            Assert.Equal((same[^1].CompletionTokens, same[^1].FinishReason), (update.CompletionTokens, update.FinishReason));
            Assert.True(update.TimeToFirstToken > TimeSpan.Zero);
            if (logprobs)
            {
                Assert.Equal(same.SelectMany(u => u.Logprobs ?? []).Select(l => (l.TokenId, l.Logprob)), update.Logprobs!.Select(l => (l.TokenId, l.Logprob)));
                Assert.Equal(update.CompletionTokens, update.Logprobs!.Count);
            }
            else
            {
                Assert.Null(update.Logprobs);
            }
        }
    }

    [Fact]
    public async Task Drain_WhileRequestsRun_RefusesNewOnesAndCompletesWhenTheRunningOnesEnd()
    {
        using var gate = new ManualResetEventSlim(false);
        using var engine = CreateEngine(out FakeBatchModel model, slots: 2);
        model.OnForward = () => gate.Wait(Timeout);
        ChannelReader<GenerationUpdate>[] running = [engine.Submit(Greedy([3, 4, 5], 6)), engine.Submit(Greedy([6, 7], 6))];

        Task drained = engine.DrainAsync();

        Assert.Throws<EngineStoppedException>(() => engine.Submit(Greedy([8], 2)));
        Assert.False(drained.IsCompleted);
        gate.Set();
        await Task.WhenAll(running.Select(DrainAsync));
        await drained.WaitAsync(Timeout);
        Assert.Equal((0, 0), (engine.Running, engine.Waiting));
    }

    [Fact]
    public async Task Drain_WhenIdle_CompletesAtOnce()
    {
        using var engine = CreateEngine(out _, slots: 1);
        await CollectAsync(engine, Greedy([3, 4], 3));

        await engine.DrainAsync().WaitAsync(Timeout);
    }

    private static GenerationRequest Greedy(int[] prompt, int maxTokens) => new(prompt, maxTokens, Temperature: 0);

    private static InferenceEngine CreateEngine(out FakeBatchModel model, int slots, int context = 256, int queue = 64, int chunk = 256, bool severalRows = false)
    {
        model = new FakeBatchModel(slots, context) { ChecksSeveralRows = severalRows };
        return new InferenceEngine(model, Vocabulary, [2], new EngineOptions { MaxSequences = slots, MaxQueue = queue, PrefillChunkTokens = chunk });
    }

    private static async Task<string> CollectAsync(InferenceEngine engine, GenerationRequest request) =>
        Text(await CollectUpdatesAsync(engine, request));

    private static async Task<List<GenerationUpdate>> CollectUpdatesAsync(InferenceEngine engine, GenerationRequest request)
    {
        var updates = new List<GenerationUpdate>();
        ChannelReader<GenerationUpdate> reader = engine.Submit(request);
        await foreach (GenerationUpdate update in reader.ReadAllAsync().WithCancellation(CancellationToken.None))
        {
            updates.Add(update);
        }

        await reader.Completion.WaitAsync(Timeout);
        return updates;
    }

    private static async Task DrainAsync(ChannelReader<GenerationUpdate> reader)
    {
        await foreach (GenerationUpdate unused in reader.ReadAllAsync().WithCancellation(CancellationToken.None))
        {
            _ = unused;
        }

        await reader.Completion.WaitAsync(Timeout);
    }

    private static string Text(List<GenerationUpdate> updates) => string.Concat(updates.Select(u => u.Text));
}
