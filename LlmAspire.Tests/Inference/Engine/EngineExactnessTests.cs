using System.Text;
using LlmAspire.Inference;
using LlmAspire.Inference.Engine;
using LlmAspire.Inference.Models;

namespace LlmAspire.Tests.Inference.Engine;

/// <summary>Continuous batching on ONNX Runtime with stories260K: batching must not change any result.</summary>
public sealed class EngineExactnessTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(1);

    private static readonly string[] Prompts =
    [
        "Once upon a time", "Lily and Ben", "The cat sat on the mat and looked at the big red", "One day",
        "Tom had a toy car. He", "The sun was hot", "Mom said", "A little bird flew over the tall green tree and",
        "Sue liked to", "There was a dog named Max. Max loved to run in the park with his", "Bob", "The sky",
        "Anna found a shiny stone in the garden. She", "They played", "It was a rainy day, so the children", "Sam",
    ];

    [Stories260KFact]
    public async Task Greedy_SixteenPromptsOfDifferentLengthsTogether_EachIdenticalToRunningAlone()
    {
        using var temp = TestPaths.CreateTempDirectory();
        string folder = Convert(temp);
        var alone = new List<string>();
        using (LanguageModel single = LanguageModel.Load(folder, ExecutionProviderPreference.Cpu, new EngineOptions { MaxSequences = 1 }))
        {
            foreach (string prompt in Prompts)
            {
                alone.Add(await CompleteAsync(single, Greedy(single, prompt)));
            }
        }

        using LanguageModel batched = LanguageModel.Load(folder, ExecutionProviderPreference.Cpu, new EngineOptions { MaxSequences = 16, PrefillChunkTokens = 8 });
        string[] together = await Task.WhenAll(Prompts.Select(p => CompleteAsync(batched, Greedy(batched, p))));

        // Again, now that every prompt is cached: each computes only its last prompt token, in the shared decode pass.
        batched.Decoder.Timings.Reset();
        string[] cached = await Task.WhenAll(Prompts.Select(p => CompleteAsync(batched, Greedy(batched, p))));

        Assert.Equal(alone, together);
        Assert.Equal(alone, cached);
        // 48 tokens each: a pass per token and at most a few more for requests that arrived a step late (a pass of its
        // own per prompt would make 16 more).
        Assert.InRange(batched.Decoder.Timings.Calls, 1, 48 + 4);
    }

    [Stories260KFact]
    public async Task Greedy_PromptsOfSimilarLengthsArrivingTogether_SharePromptPassesAndEachIdenticalToRunningAlone()
    {
        using var temp = TestPaths.CreateTempDirectory();
        string folder = Convert(temp);
        string[] prompts = [.. new[] { "Lily", "Ben", "Tom", "Sue", "Max", "Anna", "Bob", "Sam" }.Select(name => $"{name} went to the park and saw a big")];
        var alone = new List<string>();
        using (LanguageModel single = LanguageModel.Load(folder, ExecutionProviderPreference.Cpu, new EngineOptions { MaxSequences = 1 }))
        {
            foreach (string prompt in prompts)
            {
                alone.Add(await CompleteAsync(single, Greedy(single, prompt)));
            }
        }

        using LanguageModel batched = LanguageModel.Load(folder, ExecutionProviderPreference.Cpu, new EngineOptions { MaxSequences = 8 });
        batched.Decoder.Timings.Reset();
        string[] together = await Task.WhenAll(prompts.Select(p => CompleteAsync(batched, Greedy(batched, p))));

        Assert.Equal(alone, together);
        // Passes of more than one token per row are prompt passes: one shared (two if the engine took the first request
        // a step before the others), where a pass per prompt would make eight.
        DecoderTimings timings = batched.Decoder.Timings;
        Assert.InRange(timings.Calls - timings.DecodeCalls, 1, 2);
    }

    [Stories260KFact]
    public async Task Seeded_SampledRequest_SameAloneAndAmongOthers()
    {
        using var temp = TestPaths.CreateTempDirectory();
        string folder = Convert(temp);
        using LanguageModel model = LanguageModel.Load(folder, ExecutionProviderPreference.Cpu, new EngineOptions { MaxSequences = 8 });
        GenerationRequest Seeded() => new(model.Tokenizer.Encode("Once upon a time", addBos: true), 40, Temperature: 0.9f, TopP: 0.95f, Seed: 1234) { TopK = 40 };

        string alone = await CompleteAsync(model, Seeded());
        Task<string>[] noise = [.. Prompts.Take(7).Select((p, i) => CompleteAsync(model, new GenerationRequest(model.Tokenizer.Encode(p, true), 50, Temperature: 1f, Seed: i)))];
        string amongOthers = await CompleteAsync(model, Seeded());
        await Task.WhenAll(noise);

        Assert.Equal(alone, amongOthers);
    }

    private static string Convert(TempDirectory temp)
    {
        string folder = Path.Combine(temp.Path, "stories260K");
        ModelConverter.ConvertLlama2c(TestPaths.Stories260KCheckpoint, TestPaths.Stories260KTokenizer, folder);
        return folder;
    }

    private static GenerationRequest Greedy(LanguageModel model, string prompt) => new(model.Tokenizer.Encode(prompt, addBos: true), 48, Temperature: 0);

    private static async Task<string> CompleteAsync(LanguageModel model, GenerationRequest request)
    {
        var text = new StringBuilder();
        using var cts = new CancellationTokenSource(Timeout);
        await foreach (GenerationUpdate update in model.GenerateAsync(request, cts.Token))
        {
            text.Append(update.Text);
        }

        return text.ToString();
    }
}
