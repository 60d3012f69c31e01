using System.Text;
using LlmAspire.Inference;
using LlmAspire.Inference.Constraints;
using LlmAspire.Inference.Engine;
using LlmAspire.Inference.Engine.Speculation;
using LlmAspire.Inference.Models;

namespace LlmAspire.Tests.Inference.Engine;

/// <summary>Speculative decoding on ONNX Runtime with stories260K: checking proposals must not change any result.</summary>
public sealed class SpeculativeExactnessTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(1);

    /// <summary>A passage told twice and begun a third time: the model's continuation copies it, so proposals are accepted.</summary>
    private const string Repetitive =
        "Once upon a time, there was a little girl named Lily. She loved to play with her red ball in the park. "
        + "Once upon a time, there was a little girl named Lily. She loved to play with her red ball in the park. "
        + "Once upon a time, there was";

    private static readonly string[] Plain = ["Lily and Ben", "The cat sat on the mat and looked at the big red", "Tom had a toy car. He"];

    private static readonly SpeculativeOptions Speculate = new() { Tokens = 4, MinNgram = 1, MaxNgram = 4, MaxBatch = 4 };

    [Stories260KFact]
    public void ForwardBatch_SeveralTokensForOneRowAfterItsPast_MatchesOneTokenPassesAtEveryPosition()
    {
        using var temp = TestPaths.CreateTempDirectory();
        using LanguageModel model = LanguageModel.Load(Convert(temp), ExecutionProviderPreference.Cpu, new EngineOptions { MaxSequences = 1 });
        DecoderSession decoder = model.Decoder;
        int vocab = model.Config.VocabSize;
        string[] prompts = ["Once upon a time", "Tom had a big red ball and he", "The sun"];
        int[][] tokens = [.. prompts.Select(p => model.Tokenizer.Encode(p, addBos: true))];
        int[] appended = [.. model.Tokenizer.Encode(" the little dog ran", addBos: false).Take(3)];
        const int s = 3;
        Assert.Equal(s, appended.Length);

        // Each prompt in its own row of one shared cache (row 1 in two chunks), then s tokens for each row, one row per pass.
        using KvCache cache = decoder.CreateKvCache(slots: 3, context: 64);
        int[] lengths = new int[tokens.Length];
        for (int r = 0; r < tokens.Length; r++)
        {
            int split = r == 1 ? 3 : tokens[r].Length;
            decoder.ForwardBatch(cache, r, [0], tokens[r].AsSpan(0, split), split);
            if (split < tokens[r].Length)
            {
                decoder.ForwardBatch(cache, r, [split], tokens[r].AsSpan(split), tokens[r].Length - split);
            }

            lengths[r] = tokens[r].Length;
        }

        var perRow = new float[tokens.Length][];
        for (int r = 0; r < tokens.Length; r++)
        {
            float[] batched = decoder.ForwardBatch(cache, r, [lengths[r]], appended, s, allPositions: true);
            Assert.Equal(s * vocab, batched.Length);
            perRow[r] = batched;

            // Reference: the prompt, then one token per pass.
            using DecoderState state = decoder.CreateState();
            decoder.Forward(state, tokens[r]);
            for (int j = 0; j < s; j++)
            {
                float[] expected = decoder.Forward(state, [appended[j]]);
                ReadOnlySpan<float> actual = batched.AsSpan(j * vocab, vocab);
                float worst = 0;
                for (int v = 0; v < vocab; v++)
                {
                    worst = Math.Max(worst, Math.Abs(expected[v] - actual[v]));
                }

                Assert.True(worst < 1e-3f, $"row {r} position {j}: logits differ by up to {worst}");
                Assert.Equal(Sampler.ArgMax(expected), Sampler.ArgMax(actual));
            }
        }

        // Several rows of several new tokens after a past in one pass: our attention kernel (the default) takes them and
        // gives each row what its own pass gave; ONNX Runtime's refuses them ("batch_size must be 1 when sequence_length
        // > 1 and past context is given"), which is why the engine checks one row's proposal per pass.
        Assert.Equal(AttentionKernelChoice.LlmAspire, decoder.Attention);
        int[] fed = [.. Enumerable.Range(0, tokens.Length).SelectMany(_ => appended)];
        float[] together = decoder.ForwardBatch(cache, 0, lengths, fed, s, allPositions: true);
        for (int r = 0; r < tokens.Length; r++)
        {
            for (int i = 0; i < s * vocab; i++)
            {
                Assert.True(Math.Abs(together[(r * s * vocab) + i] - perRow[r][i]) < 1e-4f, $"row {r}: several rows in one pass differ from the row's own pass at {i}");
            }
        }

        (LlamaConfig config, GenAiConfig genai) = ModelFolder.ReadConfig(Path.Combine(temp.Path, "stories260K"));
        using DecoderSession onnxRuntimes = DecoderSession.Open(
            Path.Combine(temp.Path, "stories260K", genai.Model.Decoder.Filename), config, ExecutionProviderPreference.Cpu, DecoderIoNames.FromConfig(genai.Model.Decoder), attention: AttentionKernelChoice.OnnxRuntime);
        using KvCache theirCache = onnxRuntimes.CreateKvCache(tokens.Length, cache.Context);
        var refused = Assert.Throws<Microsoft.ML.OnnxRuntime.OnnxRuntimeException>(() => onnxRuntimes.ForwardBatch(theirCache, 0, lengths, fed, s, allPositions: true));
        Assert.Contains("batch_size must be 1", refused.Message, StringComparison.Ordinal);
    }

    [Stories260KFact]
    public async Task Greedy_OneStream_SameWithSpeculationAndRepetitiveTextIsAccepted()
    {
        using var temp = TestPaths.CreateTempDirectory();
        string folder = Convert(temp);
        string[] prompts = [Repetitive, .. Plain];
        string[] plain = await RunAsync(folder, new SpeculativeOptions(), prompts, together: false, null);
        var recorder = new SpeculationRecorder();
        string[] speculated = await RunAsync(folder, Speculate, [Repetitive], together: false, recorder);
        int acceptedOnRepetitive = recorder.Accepted;
        string[] rest = await RunAsync(folder, Speculate, Plain, together: false, recorder);

        Assert.Equal(plain, (string[])[.. speculated, .. rest]);
        Assert.True(acceptedOnRepetitive > 0, $"accepted {acceptedOnRepetitive} of {recorder.Proposed}");
    }

    [Stories260KFact]
    public async Task Greedy_FourStreamsTogether_SameWithSpeculation()
    {
        using var temp = TestPaths.CreateTempDirectory();
        string folder = Convert(temp);
        string[] prompts = [Repetitive, .. Plain];
        string[] alone = await RunAsync(folder, new SpeculativeOptions(), prompts, together: false, null);
        var recorder = new SpeculationRecorder();
        string[] together = await RunAsync(folder, Speculate, prompts, together: true, recorder);

        Assert.Equal(alone, together);
        Assert.True(recorder.Accepted > 0, $"accepted {recorder.Accepted} of {recorder.Proposed}");
    }

    [Stories260KFact]
    public async Task Greedy_FourStreamsTogether_OurKernelChecksEveryProposalInOnePass()
    {
        using var temp = TestPaths.CreateTempDirectory();
        string folder = Convert(temp);
        string[] prompts = [Repetitive, .. Plain];
        (string[] ours, long ourPasses) = await TogetherAsync(AttentionKernelChoice.LlmAspire);
        (string[] theirs, long theirPasses) = await TogetherAsync(AttentionKernelChoice.OnnxRuntime);

        // The same tokens, in fewer passes: one per step with our kernel, where ONNX Runtime's needs one per proposal more.
        Assert.Equal(theirs, ours);
        Assert.True(ourPasses < theirPasses, $"{ourPasses} passes with our kernel, {theirPasses} with ONNX Runtime's");

        async Task<(string[] Texts, long Passes)> TogetherAsync(AttentionKernelChoice kernel)
        {
            var options = new EngineOptions { MaxSequences = 4, Speculative = Speculate, Attention = kernel };
            using LanguageModel model = LanguageModel.Load(folder, ExecutionProviderPreference.Cpu, options);
            Assert.Equal(kernel, model.AttentionKernel);
            string[] texts = await Task.WhenAll(prompts.Select(p => CompleteAsync(model, new GenerationRequest(model.Tokenizer.Encode(p, addBos: true), 64, Temperature: 0))));
            return (texts, model.Decoder.Timings.Calls);
        }
    }

    [Stories260KFact]
    public async Task SeededSampling_SameWithSpeculation()
    {
        using var temp = TestPaths.CreateTempDirectory();
        string folder = Convert(temp);
        GenerationRequest Seeded(LanguageModel model) => new(model.Tokenizer.Encode(Repetitive, addBos: true), 60, Temperature: 0.8f, TopP: 0.95f, Seed: 1234) { TopK = 40 };
        (string plain, string speculated, SpeculationRecorder recorder) = await WithAndWithoutAsync(folder, Seeded);

        Assert.Equal(plain, speculated);
        Assert.True(recorder.Accepted > 0, $"accepted {recorder.Accepted} of {recorder.Proposed}");
    }

    [Stories260KFact]
    public async Task Constrained_NeverSpeculates_AndIsUnchanged()
    {
        using var temp = TestPaths.CreateTempDirectory();
        string folder = Convert(temp);
        // A grammar whose text repeats itself would invite proposals; a refused proposal would need the matcher rolled back.
        OutputConstraint constraint = OutputConstraint.Regex("(la ){3,12}end");
        GenerationRequest Constrained(LanguageModel model) => new(model.Tokenizer.Encode("Tom said", addBos: true), 40, Temperature: 0) { Grammar = model.Grammars.Get(constraint) };
        (string plain, string speculated, SpeculationRecorder recorder) = await WithAndWithoutAsync(folder, Constrained);

        Assert.Equal(plain, speculated);
        Assert.StartsWith("la la la ", speculated, StringComparison.Ordinal);
        Assert.Equal(0, recorder.Proposed);
    }

    private static string Convert(TempDirectory temp)
    {
        string folder = Path.Combine(temp.Path, "stories260K");
        ModelConverter.ConvertLlama2c(TestPaths.Stories260KCheckpoint, TestPaths.Stories260KTokenizer, folder);
        return folder;
    }

    private static async Task<string[]> RunAsync(string folder, SpeculativeOptions speculative, string[] prompts, bool together, IEngineListener? listener)
    {
        using LanguageModel model = LanguageModel.Load(folder, ExecutionProviderPreference.Cpu, new EngineOptions { MaxSequences = 4, Speculative = speculative }, listener);
        GenerationRequest Greedy(string prompt) => new(model.Tokenizer.Encode(prompt, addBos: true), 64, Temperature: 0);
        if (together)
        {
            return await Task.WhenAll(prompts.Select(p => CompleteAsync(model, Greedy(p))));
        }

        var results = new List<string>();
        foreach (string prompt in prompts)
        {
            results.Add(await CompleteAsync(model, Greedy(prompt)));
        }

        return [.. results];
    }

    /// <summary>One request's text on one sequence without speculation, then with it (and what the speculating engine proposed).</summary>
    private static async Task<(string Plain, string Speculated, SpeculationRecorder Recorder)> WithAndWithoutAsync(string folder, Func<LanguageModel, GenerationRequest> request)
    {
        string plain;
        using (LanguageModel model = LanguageModel.Load(folder, ExecutionProviderPreference.Cpu, new EngineOptions { MaxSequences = 1 }))
        {
            plain = await CompleteAsync(model, request(model));
        }

        var recorder = new SpeculationRecorder();
        using LanguageModel speculating = LanguageModel.Load(folder, ExecutionProviderPreference.Cpu, new EngineOptions { MaxSequences = 1, Speculative = Speculate }, recorder);
        return (plain, await CompleteAsync(speculating, request(speculating)), recorder);
    }

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
