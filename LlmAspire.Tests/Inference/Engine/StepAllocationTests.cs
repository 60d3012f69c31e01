using LlmAspire.Inference;
using LlmAspire.Inference.Engine;
using LlmAspire.Inference.Models;

namespace LlmAspire.Tests.Inference.Engine;

/// <summary>
/// A decode step allocates less than one row of logits on the engine thread: the logits, the step's lists and arrays
/// and the Run's arrays are reused (<see cref="ForwardBuffers"/>). A step of stories260K at 4 streams allocated about
/// 10 KiB before (8 of them a new logits array each step); fresh gen-0 memory every step cost this host page faults,
/// and a 32k vocabulary makes a logits row 128 KiB.
/// </summary>
public sealed class StepAllocationTests
{
    [Stories260KFact]
    public async Task DecodeSteps_FourStreams_AllocateLessThanOneLogitsRowEach()
    {
        using var temp = TestPaths.CreateTempDirectory();
        string folder = Path.Combine(temp.Path, "stories260K");
        ModelConverter.ConvertLlama2c(TestPaths.Stories260KCheckpoint, TestPaths.Stories260KTokenizer, folder);
        var steps = new StepAllocations();
        using LanguageModel model = LanguageModel.Load(folder, ExecutionProviderPreference.Cpu, new EngineOptions { MaxSequences = 4 }, steps);
        Dictionary<int, float> noEnd = model.EndTokenIds.Distinct().ToDictionary(id => id, _ => -1e9f);
        int[] prompt = model.Tokenizer.Encode("Once upon a time", addBos: true);
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(1));

        // Greedy and seeded sampling with a logit bias (its entries are read every token), final-only and streamed.
        await Task.WhenAll(Enumerable.Range(0, 4).Select(async i =>
        {
            var request = new GenerationRequest(prompt, 96, Temperature: i % 2 == 0 ? 0 : 0.8f, TopP: 1, Seed: i) { LogitBias = noEnd, FinalOnly = i < 2 };
            int tokens = 0;
            await foreach (GenerationUpdate update in model.GenerateAsync(request, cts.Token))
            {
                tokens = update.CompletionTokens;
            }

            Assert.Equal(96, tokens);
        }));

        long[] decoding = steps.Take();
        Assert.True(decoding.Length >= 64, $"{decoding.Length} steps with all four running.");
        long median = decoding.Order().ElementAt(decoding.Length / 2);
        long row = model.Decoder.Config.VocabSize * sizeof(float);
        Assert.True(median < row, $"A decode step of four rows allocated {median} bytes (median of {decoding.Length}) on the engine thread; one row of logits is {row}.");
    }

    /// <summary>Bytes the engine thread allocated in each step that had four sequences running.</summary>
    private sealed class StepAllocations : IEngineListener
    {
        private readonly List<long> _deltas = [];
        private long _last = -1;

        public void StepCompleted(int running, int waiting, double kvUsage)
        {
            long now = GC.GetAllocatedBytesForCurrentThread();
            if (_last >= 0 && running == 4)
            {
                lock (_deltas)
                {
                    _deltas.Add(now - _last);
                }
            }

            _last = now;
        }

        public long[] Take()
        {
            lock (_deltas)
            {
                return [.. _deltas];
            }
        }
    }
}
