using LlmAspire.Inference;
using LlmAspire.Inference.Engine;
using LlmAspire.Inference.Models;
using LlmAspire.Inference.Models.HuggingFace;
using LlmAspire.Inference.Models.Quantization;
using Xunit.Abstractions;

namespace LlmAspire.Tests.Inference.HuggingFace;

/// <summary>
/// The checks every imported architecture passes: a seeded random checkpoint in the exact Hugging Face layout is
/// imported; the ONNX logits match <see cref="ReferenceTransformer"/> within 1e-4 at every prefill position and at each
/// decode step; greedy generation through <see cref="LanguageModel"/> (continuous batching, chunked prefill, two
/// requests at once, then a prefix-cache hit) yields the reference's greedy tokens; the int8 MatMulNBits copy loads and
/// generates.
/// </summary>
internal static class ImportedModelVerifier
{
    /// <summary>Largest difference allowed between an ONNX logit and the float64 reference's.</summary>
    public const double Tolerance = 1e-4;

    /// <summary>Greedy tokens compared through the engine.</summary>
    public const int GreedySteps = 20;

    /// <summary>Fed to the decoder: the first <c>prefill</c> at once, the rest one by one.</summary>
    public static readonly int[] Sequence = [1, 40, 7, 63, 12, 5, 30, 2, 19, 44, 8, 71, 3, 26];

    private static readonly int[] PromptA = [1, 40, 7, 63, 12, 5];
    private static readonly int[] PromptB = [1, 9, 33, 2, 50, 17, 60, 4, 21];
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Writes <paramref name="hfWeights"/> as a Hugging Face folder for <paramref name="config"/>, imports it and runs every
    /// check; returns the largest logit difference seen. <paramref name="expected"/> is what the import must read back
    /// (<paramref name="config"/> by default).
    /// </summary>
    public static Task<double> ImportAndVerifyAsync(
        ITestOutputHelper output,
        LlamaConfig config,
        LlamaWeights hfWeights,
        string dtype,
        Func<ReferenceTransformer> reference,
        bool sharded = false,
        IReadOnlyDictionary<string, object?>? configOverrides = null,
        LlamaConfig? expected = null,
        int prefill = 6,
        string? gemma3Prefix = null) =>
        VerifyImportAsync(
            output,
            config,
            reference,
            (directory, eos) =>
            {
                string source = Path.Combine(directory, "hf");
                HuggingFaceCheckpoint.Write(source, config, hfWeights, dtype, sharded, configOverrides, eos: [eos], gemma3Prefix: gemma3Prefix);
                string folder = Path.Combine(directory, "model");
                return (ModelConverter.ImportHuggingFace(source, folder), folder);
            },
            $"{config.ModelType} {dtype}",
            expected,
            prefill);

    /// <summary>
    /// Runs every check on the folder <paramref name="import"/> writes (given a temporary directory and an end-of-sequence id
    /// the reference never picks); returns the largest logit difference seen.
    /// </summary>
    public static async Task<double> VerifyImportAsync(
        ITestOutputHelper output,
        LlamaConfig config,
        Func<ReferenceTransformer> reference,
        Func<string, int, (LlamaConfig Imported, string Folder)> import,
        string label,
        LlamaConfig? expected = null,
        int prefill = 6)
    {
        int[] greedyA = ReferenceTransformer.Greedy(reference, PromptA, GreedySteps);
        int[] greedyB = ReferenceTransformer.Greedy(reference, PromptB, GreedySteps);

        // An end-of-sequence id the reference never picks, so every generation runs all its steps.
        int eos = Enumerable.Range(0, config.VocabSize).Reverse().First(t => !greedyA.Contains(t) && !greedyB.Contains(t));
        using var temp = TestPaths.CreateTempDirectory();
        (LlamaConfig imported, string folder) = import(temp.Path, eos);

        Assert.Equal(expected ?? config, imported);
        Assert.Equal(imported, ModelFolder.ReadConfig(folder).Config);
        double maxDifference = AssertLogitsMatch(folder, reference(), prefill);
        await AssertGreedyMatchesAsync(folder, greedyA, greedyB);

        string quantized = Path.Combine(temp.Path, "int8");
        QuantizationManifest manifest = ModelQuantizer.QuantizeFolder(folder, quantized, QuantizationOptions.Parse("int8-b32-asym-acc4"));
        // Four weight MatMuls per layer: the fused qkv, o, the fused gate/up and down.
        Assert.Equal(4 * config.Layers, manifest.QuantizedMatMuls);
        using LanguageModel int8 = LanguageModel.Load(quantized, ExecutionProviderPreference.Cpu);
        int[] int8Tokens = await GenerateAsync(int8, PromptA, GreedySteps);
        Assert.NotEmpty(int8Tokens);

        output.WriteLine(
            $"{label}: max |logit - reference| {maxDifference:E2}; {GreedySteps} greedy tokens equal for two prompts; "
            + $"int8 generated {int8Tokens.Length} tokens, the first {QuantizationMetrics.CommonPrefix(greedyA, int8Tokens)} as float32's");
        return maxDifference;
    }

    /// <summary>Prefills the first <paramref name="prefill"/> tokens of <see cref="Sequence"/> (logits at every position), then decodes the rest one at a time.</summary>
    public static double AssertLogitsMatch(string folder, ReferenceTransformer reference, int prefill)
    {
        double[][] expected = [.. Sequence.Select(reference.Forward)];
        (LlamaConfig config, _) = ModelFolder.ReadConfig(folder);
        using DecoderSession session = DecoderSession.Open(Path.Combine(folder, ModelFolder.ModelFile), config, ExecutionProviderPreference.Cpu);
        using DecoderState state = session.CreateState();
        int vocab = config.VocabSize;
        double max = 0;
        float[] logits = session.Forward(state, Sequence.AsSpan(0, prefill), allPositions: true);
        for (int p = 0; p < prefill; p++)
        {
            max = Math.Max(max, Compare(expected[p], logits.AsSpan(p * vocab, vocab), $"prefill position {p}"));
        }

        for (int p = prefill; p < Sequence.Length; p++)
        {
            max = Math.Max(max, Compare(expected[p], session.Forward(state, Sequence.AsSpan(p, 1)), $"decode position {p}"));
        }

        return max;
    }

    private static async Task AssertGreedyMatchesAsync(string folder, int[] greedyA, int[] greedyB)
    {
        using LanguageModel model = LanguageModel.Load(folder, ExecutionProviderPreference.Cpu, new EngineOptions { MaxSequences = 4, PrefillChunkTokens = 4 });
        int[][] together = await Task.WhenAll(GenerateAsync(model, PromptA, GreedySteps), GenerateAsync(model, PromptB, GreedySteps));
        int[] again = await GenerateAsync(model, PromptA, GreedySteps);

        Assert.Equal(greedyA, together[0]);
        Assert.Equal(greedyB, together[1]);
        Assert.Equal(greedyA, again);
    }

    private static async Task<int[]> GenerateAsync(LanguageModel model, int[] prompt, int steps)
    {
        var tokens = new List<int>();
        using var cts = new CancellationTokenSource(Timeout);
        await foreach (GenerationUpdate update in model.GenerateAsync(new GenerationRequest(prompt, steps, Temperature: 0) { Logprobs = true }, cts.Token))
        {
            tokens.AddRange(update.Logprobs?.Select(l => l.TokenId) ?? []);
        }

        return [.. tokens];
    }

    private static double Compare(double[] expected, ReadOnlySpan<float> actual, string where)
    {
        double max = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double difference = Math.Abs(expected[i] - actual[i]);
            Assert.True(difference <= Tolerance, $"{where}: logit {i} expected {expected[i]}, got {actual[i]}");
            max = Math.Max(max, difference);
        }

        return max;
    }
}
