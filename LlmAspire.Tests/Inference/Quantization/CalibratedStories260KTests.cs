using LlmAspire.Inference;
using LlmAspire.Inference.Engine;
using LlmAspire.Inference.Models;
using LlmAspire.Inference.Models.Calibration;
using LlmAspire.Inference.Models.Quantization;

namespace LlmAspire.Tests.Inference.Quantization;

/// <summary>
/// stories260K (../shared) quantized to int4 with calibration (the built-in text) against round-to-nearest, measured on
/// held-out text: the 80-word story <c>bench quantization</c> reads and its "Once upon a time" greedy story.
/// </summary>
public sealed class CalibratedStories260KTests
{
    private const string HeldOutText =
        "Once upon a time, there was a little boy named Tim. Tim had a red ball that he loved very much. " +
        "Every day he went to the park with his mom to play. One day, the ball rolled under a big tree. " +
        "Tim was sad because he could not reach it. A kind dog came and pushed the ball back to Tim. " +
        "Tim smiled and said, \"Thank you, dog!\" They played together until the sun went down, and then Tim went home happy.";

    [Stories260KFact]
    public void Int4_CalibratedMethods_LowerTheKlOfRoundToNearest_AtUnder40PercentOfTheBytes()
    {
        using var temp = TestPaths.CreateTempDirectory();
        string fp32 = Path.Combine(temp.Path, "stories260K");
        ModelConverter.ConvertLlama2c(TestPaths.Stories260KCheckpoint, TestPaths.Stories260KTokenizer, fp32);
        var results = new Dictionary<string, (double Kl, int Greedy, long Bytes)>();
        (float[] referenceLogits, int[] referenceGreedy, int[] text, int vocab) = Measure(fp32, null);
        long fp32Bytes = OnnxModelFile.SizeOnDisk(Path.Combine(fp32, ModelFolder.ModelFile));
        foreach (string variant in (string[])["int4-b32-asym-acc4", "int4-b32-asym-acc4-awq", "int4-b32-asym-acc4-gptq", "int4-b32-asym-acc4-gptq-mix50"])
        {
            string folder = Path.Combine(temp.Path, variant);
            QuantizationManifest manifest = ModelQuantizer.QuantizeFolder(fp32, folder, QuantizationOptions.Parse(variant));
            (float[] logits, int[] greedy, _, _) = Measure(folder, text);
            double kl = 0;
            for (int t = 0; t < text.Length - 1; t++)
            {
                kl += QuantizationMetrics.KlDivergence(referenceLogits.AsSpan(t * vocab, vocab), logits.AsSpan(t * vocab, vocab));
            }

            results[variant] = (kl / (text.Length - 1), QuantizationMetrics.CommonPrefix(referenceGreedy, greedy), manifest.Bytes);
            Assert.Equal(variant.EndsWith("acc4", StringComparison.Ordinal) ? "rtn" : variant.Contains("gptq", StringComparison.Ordinal) ? "gptq" : "awq", manifest.Method);
        }

        string summary = string.Join("; ", results.Select(r => $"{r.Key}: KL {r.Value.Kl:F4}, greedy {r.Value.Greedy}, {100.0 * r.Value.Bytes / fp32Bytes:F1} %"));
        (double rtnKl, int rtnGreedy, _) = results["int4-b32-asym-acc4"];
        (double awqKl, _, long awqBytes) = results["int4-b32-asym-acc4-awq"];
        (double gptqKl, int gptqGreedy, long gptqBytes) = results["int4-b32-asym-acc4-gptq"];
        Assert.True(rtnKl > 0.055, summary); // 0.065 measured
        Assert.True(awqKl < 0.95 * rtnKl, summary); // 0.057 measured
        Assert.True(gptqKl < 0.55 * rtnKl, summary); // 0.033 measured: half of RTN's, short of the 0.02
        Assert.True(gptqGreedy >= rtnGreedy, summary);
        Assert.True(gptqBytes <= 0.40 * fp32Bytes && awqBytes <= 0.40 * fp32Bytes, summary);

        // Issue 14's goals, reached by GPTQ with half of the weights (those with the largest 4-bit error) at 8 bits.
        (double mixKl, int mixGreedy, long mixBytes) = results["int4-b32-asym-acc4-gptq-mix50"];
        Assert.True(mixKl <= 0.02, summary); // 0.0119 measured
        Assert.True(mixGreedy >= 32, summary); // 44 measured
        Assert.True(mixBytes <= 0.40 * fp32Bytes, summary); // 39.9 % measured
    }

    [Stories260KFact]
    public void ActivationCollector_ReadsEveryQuantizedMatMulInput_OverTheBuiltInText()
    {
        using var temp = TestPaths.CreateTempDirectory();
        string fp32 = Path.Combine(temp.Path, "stories260K");
        ModelConverter.ConvertLlama2c(TestPaths.Stories260KCheckpoint, TestPaths.Stories260KTokenizer, fp32);
        (Onnx.ModelProto model, _) = OnnxModelFile.Load(Path.Combine(fp32, ModelFolder.ModelFile));
        (IReadOnlyList<MatMulCandidate> candidates, _) = MatMulNBitsRewriter.FindCandidates(model, new QuantizationOptions { Bits = 4 });
        string[] inputs = [.. candidates.Select(c => c.Input).Distinct()];

        IReadOnlyDictionary<string, ActivationStatistics> statistics = ActivationCollector.Collect(model, fp32, inputs, CalibrationText.BuiltIn);

        Assert.Equal(inputs.Length, statistics.Count);
        int tokens = statistics.Values.First().Tokens;
        Assert.True(tokens > 1000, $"{tokens} tokens");
        foreach (MatMulCandidate candidate in candidates)
        {
            ActivationStatistics stats = statistics[candidate.Input];
            Assert.Equal(candidate.K, stats.Channels);
            Assert.Equal(tokens, stats.Tokens);
            Assert.All(stats.MeanAbsolute, m => Assert.True(m >= 0 && double.IsFinite(m)));
            Assert.Contains(stats.MeanAbsolute, m => m > 0);
        }
    }

    private static (float[] Logits, int[] Greedy, int[] Text, int Vocab) Measure(string folder, int[]? text)
    {
        using LanguageModel model = LanguageModel.Load(folder, ExecutionProviderPreference.Cpu);
        text ??= model.Tokenizer.Encode(HeldOutText, addBos: true);
        float[] logits;
        using (DecoderState state = model.Decoder.CreateState())
        {
            logits = model.Decoder.Forward(state, text, allPositions: true);
        }

        using DecoderState greedyState = model.Decoder.CreateState();
        var greedy = new List<int>();
        float[] next = model.Decoder.Forward(greedyState, model.Tokenizer.Encode("Once upon a time", addBos: true));
        for (int i = 0; i < 60; i++)
        {
            greedy.Add(Sampler.ArgMax(next));
            next = model.Decoder.Forward(greedyState, [greedy[^1]]);
        }

        return (logits, [.. greedy], text, model.Config.VocabSize);
    }
}
