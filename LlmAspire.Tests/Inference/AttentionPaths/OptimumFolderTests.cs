using LlmAspire.Inference;
using LlmAspire.Inference.Engine;
using LlmAspire.Inference.Models;

namespace LlmAspire.Tests.Inference.AttentionPaths;

/// <summary>
/// stories260K exported as Optimum does (standard ONNX operators, config.json, no genai_config.json) on the per-sequence
/// path: the same greedy text as our GroupQueryAttention folder, alone and among concurrent requests of other lengths,
/// in padded batches and one sequence at a time.
/// </summary>
public sealed class OptimumFolderTests : IDisposable
{
    private static readonly string[] s_prompts =
    [
        "Once upon a time", "Lily and Ben", "The cat sat on the mat and looked at the big red", "One day",
        "Tom had a toy car. He", "A little bird flew over the tall green tree and", "Sam", "There was a dog named Max. Max loved to run in the park with his",
    ];

    private readonly Stories260KFolders _folders = new();

    public void Dispose() => _folders.Dispose();

    [Stories260KFact]
    public void Load_OptimumFolder_ReadsConfigJsonAndChoosesThePaddedPerSequencePath()
    {
        using LanguageModel model = LanguageModel.Load(_folders.Optimum, ExecutionProviderPreference.Cpu);

        Assert.False(File.Exists(Path.Combine(_folders.Optimum, ModelFolder.ConfigFile)));
        Assert.Equal((5, 8, 4, 512, 512), (model.Config.Layers, model.Config.Heads, model.Config.KvHeads, model.VocabularySize, model.ContextLength));
        Assert.Equal([2], model.EndTokenIds);
        Assert.Equal(AttentionPath.PerSequence, model.Attention.Path);
        Assert.True(model.Attention.Padded);
        Assert.StartsWith("standard ONNX operators", model.Attention.AttentionOperators, StringComparison.Ordinal);
    }

    [Stories260KFact]
    public async Task Greedy_ConcurrentRequestsOfDifferentLengths_EachEqualsItsSingleRequestAndTheGqaFolder()
    {
        var gqa = new List<string>();
        using (LanguageModel reference = LanguageModel.Load(_folders.GroupQueryAttention, ExecutionProviderPreference.Cpu))
        {
            Assert.Equal(AttentionPath.SharedBuffer, reference.Attention.Path);
            foreach (string prompt in s_prompts)
            {
                gqa.Add((await Stories260KFolders.GreedyAsync(reference, prompt, 80).WaitAsync(Stories260KFolders.Timeout)).Text);
            }
        }

        var alone = new List<string>();
        using (LanguageModel single = LanguageModel.Load(_folders.Optimum, ExecutionProviderPreference.Cpu, new EngineOptions { MaxSequences = 1 }))
        {
            foreach (string prompt in s_prompts)
            {
                alone.Add((await Stories260KFolders.GreedyAsync(single, prompt, 80).WaitAsync(Stories260KFolders.Timeout)).Text);
            }
        }

        using LanguageModel batched = LanguageModel.Load(_folders.Optimum, ExecutionProviderPreference.Cpu, new EngineOptions { MaxSequences = 8, PrefillChunkTokens = 8 });
        (string Text, int[] Tokens)[] together = await Task.WhenAll(s_prompts.Select(p => Stories260KFolders.GreedyAsync(batched, p, 80))).WaitAsync(Stories260KFolders.Timeout);

        Assert.Equal(ModelServer.ModelServerHttp.KnownContinuation, alone[0][..ModelServer.ModelServerHttp.KnownContinuation.Length]);
        Assert.Equal(alone, together.Select(t => t.Text));
        Assert.Equal(gqa, alone);
    }

    [Stories260KFact]
    public async Task PaddedBatchesAndOneSequencePerRun_SameTexts_AndOnlyThePaddedOnesBatch()
    {
        using LanguageModel model = LanguageModel.Load(_folders.Optimum, ExecutionProviderPreference.Cpu, new EngineOptions { MaxSequences = 1 });

        // The loaded decoder behind both batch models: padded (graphs with attention_mask and position_ids) and one at a time.
        async Task<(string[] Texts, int LargestRun)> RunAsync(bool padded)
        {
            using var batch = new PerSequenceBatchModel(model.Decoder, slots: 4, context: model.ContextLength, padded);
            using var engine = new InferenceEngine(batch, model.Tokenizer, model.EndTokenIds, new EngineOptions { MaxSequences = 4 });
            string[] texts = await Task.WhenAll(s_prompts.Take(4).Select(async prompt =>
            {
                var text = new System.Text.StringBuilder();
                await foreach (GenerationUpdate update in engine.GenerateAsync(new GenerationRequest(model.Tokenizer.Encode(prompt, addBos: true), 40, Temperature: 0)))
                {
                    text.Append(update.Text);
                }

                return text.ToString();
            })).WaitAsync(Stories260KFolders.Timeout);
            return (texts, batch.LargestRun);
        }

        (string[] padded, int paddedRun) = await RunAsync(padded: true);
        (string[] single, int singleRun) = await RunAsync(padded: false);

        Assert.Equal(padded, single);
        Assert.True(paddedRun > 1, $"the padded model ran at most {paddedRun} sequences at once");
        Assert.Equal(1, singleRun);
    }

    [Stories260KFact]
    public async Task SampledChoicesStopSequenceAndLogprobs_SameAsOnTheGqaFolder()
    {
        async Task<List<(int Index, string Text, FinishReason? Reason, int[] Tokens)>> RunAsync(string folder)
        {
            using LanguageModel model = LanguageModel.Load(folder, ExecutionProviderPreference.Cpu, new EngineOptions { MaxSequences = 4 });
            var request = new GenerationRequest(model.Tokenizer.Encode("Lily and Ben", addBos: true), 60, Temperature: 0.8f, Seed: 7, Stop: ["They"])
            {
                N = 3,
                Logprobs = true,
                TopLogprobs = 2,
            };
            var texts = new Dictionary<int, System.Text.StringBuilder>();
            var logprobTokens = new Dictionary<int, List<int>>();
            var finished = new List<(int, string, FinishReason?, int[])>();
            await foreach (GenerationUpdate update in model.GenerateAsync(request))
            {
                texts.TryAdd(update.Index, new System.Text.StringBuilder());
                logprobTokens.TryAdd(update.Index, []);
                texts[update.Index].Append(update.Text);
                logprobTokens[update.Index].AddRange(update.Logprobs?.SelectMany(l => l.TopLogprobs.Select(t => t.TokenId).Prepend(l.TokenId)) ?? []);
                if (update.FinishReason is { } reason)
                {
                    finished.Add((update.Index, texts[update.Index].ToString(), reason, [.. logprobTokens[update.Index]]));
                }
            }

            return [.. finished.OrderBy(f => f.Item1)];
        }

        var gqa = await RunAsync(_folders.GroupQueryAttention).WaitAsync(Stories260KFolders.Timeout);
        var optimum = await RunAsync(_folders.Optimum).WaitAsync(Stories260KFolders.Timeout);

        Assert.Equal(3, optimum.Count);
        Assert.Equal(gqa, optimum, (a, b) => a.Index == b.Index && a.Text == b.Text && a.Reason == b.Reason && a.Tokens.SequenceEqual(b.Tokens));
        Assert.Contains(optimum, c => c.Reason == FinishReason.Stop && !c.Text.Contains("They", StringComparison.Ordinal));
    }

    [Stories260KFact]
    public async Task RepeatedPrompt_ReusesItsPrefixByCopy_AndAnswersTheSame()
    {
        using LanguageModel model = LanguageModel.Load(_folders.Optimum, ExecutionProviderPreference.Cpu, new EngineOptions { MaxSequences = 2 });
        int[] prompt = model.Tokenizer.Encode("There was a dog named Max. Max loved to run in the park with his", addBos: true);

        async Task<(string Text, int Cached)> RunAsync()
        {
            var text = new System.Text.StringBuilder();
            int cached = 0;
            await foreach (GenerationUpdate update in model.GenerateAsync(new GenerationRequest(prompt, 20, Temperature: 0)).WithCancellation(CancellationToken.None))
            {
                text.Append(update.Text);
                cached = update.CachedTokens;
            }

            return (text.ToString(), cached);
        }

        (string first, int firstCached) = await RunAsync().WaitAsync(Stories260KFolders.Timeout);
        (string second, int secondCached) = await RunAsync().WaitAsync(Stories260KFolders.Timeout);

        Assert.Equal(0, firstCached);
        Assert.True(secondCached > 0, $"{secondCached} cached tokens");
        Assert.Equal(first, second);
    }

    [Stories260KFact]
    public async Task OnnxCommunityLayout_DecoderUnderOnnxFolder_LoadsAndAnswersTheSame()
    {
        string folder = Path.Combine(_folders.Root, "onnx-community-layout");
        Directory.CreateDirectory(Path.Combine(folder, "onnx"));
        foreach (string file in Directory.GetFiles(_folders.Optimum))
        {
            string name = Path.GetFileName(file);
            File.Copy(file, name == ModelFolder.ModelFile ? Path.Combine(folder, "onnx", name) : Path.Combine(folder, name));
        }

        using LanguageModel model = LanguageModel.Load(folder, ExecutionProviderPreference.Cpu);
        (string text, _) = await Stories260KFolders.GreedyAsync(model, ModelServer.ModelServerHttp.StoryPrompt, 60).WaitAsync(Stories260KFolders.Timeout);

        Assert.Equal(ModelServer.ModelServerHttp.KnownContinuation, text);
    }

    [Stories260KTheory]
    [InlineData("num_hidden_layers")]
    [InlineData("vocab_size")]
    public void Load_ConfigJsonWithoutAShapeKey_FailsInOneLineNamingIt(string key)
    {
        string folder = Path.Combine(_folders.Root, "broken-" + key);
        Directory.CreateDirectory(folder);
        foreach (string file in Directory.GetFiles(_folders.Optimum))
        {
            File.Copy(file, Path.Combine(folder, Path.GetFileName(file)));
        }

        string config = File.ReadAllText(Path.Combine(folder, OnnxExportFolder.ConfigFile));
        File.WriteAllText(Path.Combine(folder, OnnxExportFolder.ConfigFile), System.Text.RegularExpressions.Regex.Replace(config, $"\"{key}\": \\d+,", string.Empty));

        var error = Assert.Throws<InvalidDataException>(() => LanguageModel.Load(folder, ExecutionProviderPreference.Cpu));
        Assert.Contains($"'{key}'", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }
}
