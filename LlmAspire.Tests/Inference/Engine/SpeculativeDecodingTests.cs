using System.Threading.Channels;
using LlmAspire.Inference.Engine;
using LlmAspire.Inference.Engine.Speculation;
using LlmAspire.Inference.Models;

namespace LlmAspire.Tests.Inference.Engine;

/// <summary>
/// Speculative decoding in the scheduler, over a fake model whose logits depend on the tokens before each position
/// only: with or without speculation, every request must produce the same tokens, text, finish reason and counts.
/// </summary>
public sealed class SpeculativeDecodingTests
{
    private const int Period = 6;
    private const int EndToken = 2;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);
    private static readonly LlmAspire.Inference.Tokenization.SentencePieceBpeTokenizer Vocabulary = BuiltInModels.DemoVocabulary();

    /// <summary>A model that repeats the sequence with period <see cref="Period"/>: proposals by lookup are right.</summary>
    private static readonly Func<int[], int, int> Loop = (row, end) => end >= Period ? row[end - Period] : 3;

    private static readonly SpeculativeOptions Speculate = new() { Tokens = 4, MinNgram = 1, MaxNgram = 3, MaxBatch = 4 };

    [Theory]
    [InlineData(true, 1, false)]
    [InlineData(true, 4, false)]
    [InlineData(false, 1, false)]
    [InlineData(false, 4, false)]
    [InlineData(true, 4, true)]
    [InlineData(false, 4, true)]
    public async Task Greedy_WithSpeculation_SameTokensAsWithout(bool loop, int streams, bool checksSeveralRows)
    {
        Func<int[], int, int>? peak = loop ? Loop : null;
        int[][] prompts = [.. Enumerable.Range(0, streams).Select(i => Enumerable.Range(0, Period + i).Select(t => 3 + ((t * 5 + i) % 40)).ToArray())];
        Result[] plain = await RunAsync(new SpeculativeOptions(), peak, prompts.Select(p => Greedy(p, 40)));
        var recorder = new SpeculationRecorder();
        Result[] speculated = await RunAsync(Speculate, peak, prompts.Select(p => Greedy(p, 40)), recorder, out FakeBatchModel model, checksSeveralRows);

        Assert.Equal(plain, speculated);
        if (loop)
        {
            Assert.True(recorder.Accepted > 0, "a looping model's continuations are proposed and accepted");
            Assert.NotEmpty(model.CallsWith(Speculate.Tokens + 1));
            // Accepted proposals save passes: fewer than one prefill per stream and one decode pass per further token.
            Assert.True(streams > 1 || model.Calls.Count < 40, $"{model.Calls.Count} passes");
        }

        // Several rows' proposals (and prompts) are computed in one pass only where the model takes such passes: with four
        // looping streams, passes of all four rows and the proposal's width.
        var severalRows = model.Calls.Where(c => c.Rows > 1 && c.TokensPerRow > 1).ToList();
        if (!checksSeveralRows)
        {
            Assert.Empty(severalRows);
        }
        else if (loop)
        {
            Assert.Contains(severalRows, c => c.Rows == streams && c.TokensPerRow == Speculate.Tokens + 1);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task SeededSampling_WithSpeculation_SameTokensAsWithout(bool checksSeveralRows)
    {
        GenerationRequest Seeded(int[] prompt, int seed) => new(prompt, 80, Temperature: 1f, Seed: seed) { TopK = 20 };
        int[][] prompts = [[3, 9, 27, 4, 11, 30], [5, 6, 7, 8, 9, 10, 12], [40, 41, 3, 4, 5, 6]];
        Result[] plain = await RunAsync(new SpeculativeOptions(), Loop, prompts.Select((p, i) => Seeded(p, i)));
        var recorder = new SpeculationRecorder();
        Result[] speculated = await RunAsync(Speculate, Loop, prompts.Select((p, i) => Seeded(p, i)), recorder, out _, checksSeveralRows);

        Assert.Equal(plain, speculated);
        // Both outcomes happened: some proposals were drawn as well, some were not.
        Assert.True(recorder.Accepted > 0, "some proposals accepted");
        Assert.True(recorder.Accepted < recorder.Proposed, "some proposals refused");
    }

    [Fact]
    public async Task EndToken_InsideAnAcceptedRun_EndsTheChoiceThere()
    {
        // The loop brings the end token back as the 5th generated token, in the middle of an accepted run.
        int[] prompt = [10, 11, 12, 13, EndToken, 15];
        Result plain = (await RunAsync(new SpeculativeOptions(), Loop, [Greedy(prompt, 30)]))[0];
        var recorder = new SpeculationRecorder();
        Result speculated = (await RunAsync(Speculate, Loop, [Greedy(prompt, 30)], recorder, out _))[0];

        Assert.Equal(plain, speculated);
        Assert.Equal(FinishReason.Stop, speculated.Reason);
        Assert.Equal([10, 11, 12, 13], speculated.Tokens);
        Assert.True(recorder.Accepted > 0);
    }

    [Fact]
    public async Task MaxTokens_InsideAnAcceptedRun_EndsTheChoiceWithLength()
    {
        int[] prompt = [10, 11, 12, 13, 14, 15];
        var recorder = new SpeculationRecorder();
        Result plain = (await RunAsync(new SpeculativeOptions(), Loop, [Greedy(prompt, 9)]))[0];
        Result speculated = (await RunAsync(Speculate, Loop, [Greedy(prompt, 9)], recorder, out _))[0];

        Assert.Equal(plain, speculated);
        Assert.Equal(FinishReason.Length, speculated.Reason);
        Assert.Equal(9, speculated.Tokens.Length);
        Assert.True(recorder.Accepted > 0);
    }

    [Fact]
    public async Task StopSequence_InsideAnAcceptedRun_EndsTheChoiceWithTheSameText()
    {
        int[] prompt = [20, 21, 22, 23, 24, 25];
        // The text of two tokens the loop produces in its second round, well inside runs of accepted proposals.
        string stop = Vocabulary.Decode([23, 24]);
        Assert.False(string.IsNullOrWhiteSpace(stop));
        GenerationRequest Request() => new(prompt, 40, Temperature: 0, Stop: [stop]);
        Result plain = (await RunAsync(new SpeculativeOptions(), Loop, [Request()]))[0];
        var recorder = new SpeculationRecorder();
        Result speculated = (await RunAsync(Speculate, Loop, [Request()], recorder, out _))[0];

        Assert.Equal(plain, speculated);
        Assert.Equal(FinishReason.Stop, speculated.Reason);
        Assert.True(speculated.Tokens.Length < 40);
        Assert.True(recorder.Accepted > 0);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task FreeRowNearTheEndOfItsContext_KeepsItsCachedPositions(bool checksSeveralRows)
    {
        const int context = 32;
        var model = new FakeBatchModel(2, context) { Peak = Loop, ChecksSeveralRows = checksSeveralRows };
        var recorder = new SpeculationRecorder();
        using var engine = new InferenceEngine(model, Vocabulary, [EndToken], new EngineOptions { MaxSequences = 2, Speculative = Speculate }, recorder);
        int[] full = [30, 31, 32, 33, 34, 35];
        int[] other = [40, 41, 42, 43, 44, 45];

        // Row 0 runs to the end of its context (and keeps context − 1 positions cached), row 1 briefly.
        Task<Result> first = CollectAsync(engine, Greedy(full, context - full.Length));
        Task<Result> second = CollectAsync(engine, Greedy(other, 2));
        Result original = await first;
        await second;
        int[] cached = [.. full, .. original.Tokens[..(context - 1 - full.Length)]];
        Assert.Equal(cached, model.RowTokens(0, context - 1));

        // Row 1 decodes again (its prompt shares what row 1 holds), speculating, while free row 0 holds 31 positions,
        // which no pass may write over.
        int proposed = recorder.Proposed;
        Result third = await CollectAsync(engine, Greedy([.. other, 46, 47, 48], 10));

        Assert.Equal(cached, model.RowTokens(0, context - 1));
        Assert.True(recorder.Proposed > proposed);
        Assert.Equal(10, third.Tokens.Length);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task CachedPromptsArrivingWhileAnotherSpeculates_RideItsPassAndGiveTheSameTokens(bool checksSeveralRows)
    {
        int[] prompt = [10, 11, 12, 13, 14, 15, 16, 17];
        int[] other = [20, 21, 22, 23, 24, 25];
        Result expected = (await RunAsync(new SpeculativeOptions(), Loop, [Greedy(prompt, 30)]))[0];

        var model = new FakeBatchModel(4, 1024) { Peak = Loop, ChecksSeveralRows = checksSeveralRows };
        using var engine = new InferenceEngine(model, Vocabulary, [EndToken], new EngineOptions { MaxSequences = 4, Speculative = Speculate });
        Result warm = await CollectAsync(engine, Greedy(prompt, 30));

        // Another stream decodes, well into its loop (so it proposes every step); the engine is held inside a pass while
        // two requests for the cached prompt arrive, whose last prompt tokens then ride the next pass. Its passes are
        // slowed down so that it is still running then.
        model.OnForward = () => Thread.Sleep(5);
        ChannelReader<GenerationUpdate> running = engine.Submit(Greedy(other, 1000));
        using var cts = new CancellationTokenSource(Timeout);
        while ((await running.ReadAsync(cts.Token)).CompletionTokens < 2 * Period)
        {
        }

        using PassHold hold = model.HoldNextPass();
        Assert.True(await hold.EnteredAsync());
        int callsBefore = hold.CallsBefore;
        Task<Result>[] again = [CollectAsync(engine, Greedy(prompt, 30)), CollectAsync(engine, Greedy(prompt, 30))];
        hold.Release();
        Result[] results = await Task.WhenAll(again).WaitAsync(Timeout);
        await foreach (GenerationUpdate unused in running.ReadAllAsync(cts.Token))
        {
            _ = unused;
        }

        Assert.Equal(expected, warm);
        Assert.All(results, result => Assert.Equal(expected, result));
        // No prompt token took a pass of its own row (one token from the row; shared passes start at row 0, and checking
        // one row's proposal feeds more than one token).
        var after = model.Calls.Skip(callsBefore).ToList();
        Assert.DoesNotContain(after, call => call.FirstRow != 0 && call.TokensPerRow == 1);
        if (checksSeveralRows)
        {
            // They rode the pass checking the other stream's proposal: three rows at its width.
            Assert.Contains(after, call => call.Rows >= 3 && call.TokensPerRow == Speculate.Tokens + 1);
        }
    }

    [Fact]
    public async Task MoreSequencesThanMaxBatch_DecodeWithoutSpeculation()
    {
        var options = Speculate with { MaxBatch = 1 };
        int[][] prompts = [[10, 11, 12, 13, 14, 15], [20, 21, 22, 23, 24, 25]];
        var recorder = new SpeculationRecorder();
        Result[] plain = await RunAsync(new SpeculativeOptions(), Loop, prompts.Select(p => Greedy(p, 30)));
        Result[] speculated = await RunAsync(options, Loop, prompts.Select(p => Greedy(p, 30)), recorder, out FakeBatchModel model);

        Assert.Equal(plain, speculated);
        // Two sequences decoding together exceed MaxBatch 1: those passes take one token per row.
        Assert.Contains(model.Calls, c => c.TokensPerRow == 1 && c.Rows == 2);
    }

    [Fact]
    public void Options_OutOfRange_AreRefusedWithTheirName()
    {
        var model = new FakeBatchModel(1, 32);
        var error = Assert.Throws<ArgumentException>(() => new InferenceEngine(model, Vocabulary, [EndToken], new EngineOptions { Speculative = new SpeculativeOptions { Tokens = 4, MinNgram = 5, MaxNgram = 3 } }));
        Assert.Contains("MinNgram", error.Message, StringComparison.Ordinal);
        Assert.Null(new SpeculativeOptions().Validate());
        Assert.Contains("Tokens", new SpeculativeOptions { Tokens = -1 }.Validate(), StringComparison.Ordinal);
        Assert.Contains("MaxBatch", new SpeculativeOptions { MaxBatch = 0 }.Validate(), StringComparison.Ordinal);
    }

    private sealed record Result(string Text, int[] Tokens, FinishReason? Reason, int CompletionTokens)
    {
        public bool Equals(Result? other) =>
            other is not null && Text == other.Text && Tokens.SequenceEqual(other.Tokens) && Reason == other.Reason && CompletionTokens == other.CompletionTokens;

        public override int GetHashCode() => HashCode.Combine(Text, Tokens.Length, Reason, CompletionTokens);

        public override string ToString() => $"{Reason} {CompletionTokens} [{string.Join(",", Tokens)}]";
    }

    private static GenerationRequest Greedy(int[] prompt, int maxTokens) => new(prompt, maxTokens, Temperature: 0);

    private static Task<Result[]> RunAsync(SpeculativeOptions speculative, Func<int[], int, int>? peak, IEnumerable<GenerationRequest> requests) =>
        RunAsync(speculative, peak, requests, null, out _);

    private static Task<Result[]> RunAsync(
        SpeculativeOptions speculative,
        Func<int[], int, int>? peak,
        IEnumerable<GenerationRequest> requests,
        IEngineListener? listener,
        out FakeBatchModel model,
        bool checksSeveralRows = false)
    {
        List<GenerationRequest> all = [.. requests];
        model = new FakeBatchModel(all.Count, 256) { Peak = peak, ChecksSeveralRows = checksSeveralRows };
        var engine = new InferenceEngine(model, Vocabulary, [EndToken], new EngineOptions { MaxSequences = all.Count, Speculative = speculative }, listener);
        return RunAndDisposeAsync(engine, all);
    }

    private static async Task<Result[]> RunAndDisposeAsync(InferenceEngine engine, List<GenerationRequest> requests)
    {
        using (engine)
        {
            return await Task.WhenAll(requests.Select(r => CollectAsync(engine, r)));
        }
    }

    private static async Task<Result> CollectAsync(InferenceEngine engine, GenerationRequest request)
    {
        var updates = new List<GenerationUpdate>();
        ChannelReader<GenerationUpdate> reader = engine.Submit(request);
        using var cts = new CancellationTokenSource(Timeout);
        await foreach (GenerationUpdate update in reader.ReadAllAsync(cts.Token))
        {
            updates.Add(update);
        }

        GenerationUpdate last = updates[^1];
        return new Result(string.Concat(updates.Select(u => u.Text)), [.. last.TokenIds ?? []], last.FinishReason, last.CompletionTokens);
    }
}
