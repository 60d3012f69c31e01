using LlmAspire.Inference;
using LlmAspire.Inference.Engine;
using LlmAspire.Inference.Engine.Kernels;
using LlmAspire.Inference.Models;

namespace LlmAspire.Tests.Inference.Engine;

/// <summary>ONNX Runtime's spinning modes, the per-pass timings and the operator profile, on the real stories260K model.</summary>
public sealed class SpinningModeTests
{
    [Stories260KFact]
    public void EverySpinningMode_IsTheSessionsMode_AndGivesTheLogitsOfOff_BitForBit()
    {
        using var temp = TestPaths.CreateTempDirectory();
        string folder = Convert(temp.Path);
        float[]? expected = null;
        foreach (SpinningMode mode in Enum.GetValues<SpinningMode>())
        {
            // Two threads, so that there are workers to spin.
            using LanguageModel model = LanguageModel.Load(folder, ExecutionProviderPreference.Cpu, new EngineOptions { Spinning = mode, IntraOpThreads = 2, MaxSequences = 2 });
            // stories260K's weights are too small to pack, but its SwiGLUs are fused and nothing large is left to ONNX
            // Runtime: Brief runs our kernels' pool there (Off where this CPU lacks AVX-512 and nothing is rewritten).
            Assert.Equal(mode == SpinningMode.Brief && model.Decoder.SwiGlus == 0 ? SpinningMode.Off : mode, model.Decoder.Spinning);
            Assert.Equal(mode == SpinningMode.Brief && model.Decoder.SwiGlus > 0, model.Decoder.KernelPool is not null);
            Assert.Equal(2, model.Decoder.IntraOpThreads);
            float[] logits = Run(model, passes: 6);
            expected ??= logits;
            Assert.Equal(expected, logits);
        }
    }

    [Stories260KFact]
    public void Timings_CountEveryPass_AndSplitItsTimeAroundRun()
    {
        using var temp = TestPaths.CreateTempDirectory();
        using LanguageModel model = LanguageModel.Load(Convert(temp.Path), ExecutionProviderPreference.Cpu, new EngineOptions { MaxSequences = 2 });
        model.Decoder.Timings.Reset();
        Run(model, passes: 5);
        DecoderTimings timings = model.Decoder.Timings;
        Assert.Equal(5, timings.Calls);
        Assert.Equal(4, timings.DecodeCalls); // the prefill appends several tokens per row
        Assert.True(timings.RunTicks > 0);
        Assert.True(timings.AroundTicks > 0);
        Assert.True(timings.BetweenTicks > 0);
        timings.Reset();
        Assert.Equal(0, timings.Calls + timings.RunTicks + timings.AroundTicks + timings.BetweenTicks);
    }

    [Stories260KFact]
    public void Profile_CountsTheRuns_AndNamesTheGraphsOperators()
    {
        using var temp = TestPaths.CreateTempDirectory();
        string folder = Convert(temp.Path);
        string path;
        using (LanguageModel model = LanguageModel.Load(folder, ExecutionProviderPreference.Cpu, new EngineOptions { MaxSequences = 2 }, listener: null, Path.Combine(temp.Path, "ort")))
        {
            Run(model, passes: 4);
            path = model.Decoder.EndProfiling();
        }

        Assert.StartsWith(Path.Combine(temp.Path, "ort"), Path.GetFullPath(path), StringComparison.Ordinal);
        OrtProfile profile = OrtProfile.Read(path);
        Assert.Equal(4, profile.Runs);
        Assert.Contains(profile.Operators, o => o.Type == "GroupQueryAttention" && o.Calls == 4 * 5); // 5 layers
        // The weight MatMuls (4 per layer and the classifier): stories260K's are below the packed kernel's threshold.
        Assert.Contains(profile.Operators, o => o.Type == "MatMul" && o.Calls == 4 * ((4 * 5) + 1));
        Assert.DoesNotContain(profile.Operators, o => o.Type == PackedMatMulKernel.Name);
        Assert.InRange(profile.KernelMicroseconds, 1, profile.RunMicroseconds);
        Assert.Equal(profile.Operators.OrderByDescending(o => o.Microseconds), profile.Operators);
        OrtProfile.Node[] attention = [.. profile.Nodes.Where(n => n.Type == "GroupQueryAttention")];
        Assert.Equal(5, attention.Length);
        Assert.All(attention, node => Assert.Equal(4, node.Calls));
        Assert.All(profile.Operators, op => Assert.Equal(op.Microseconds, profile.Nodes.Where(n => n.Type == op.Type).Sum(n => n.Microseconds)));
        Assert.Equal(0, profile.Operators.Sum(o => o.WaitMicroseconds)); // one thread below 20 M parameters: no workers to wait for
    }

    private static string Convert(string directory)
    {
        string folder = Path.Combine(directory, "stories260K");
        ModelConverter.ConvertLlama2c(TestPaths.Stories260KCheckpoint, TestPaths.Stories260KTokenizer, folder);
        return folder;
    }

    /// <summary>A two-row prefill, then greedy decode passes; every pass's logits, concatenated.</summary>
    private static float[] Run(LanguageModel model, int passes)
    {
        DecoderSession decoder = model.Decoder;
        using KvCache cache = decoder.CreateKvCache(slots: 2, context: 64);
        int[] first = model.Tokenizer.Encode("Once upon a time", addBos: true);
        int[] second = model.Tokenizer.Encode("The sun was hot", addBos: true);
        int s = Math.Min(first.Length, second.Length);
        int vocab = model.Config.VocabSize;
        var all = new List<float>();
        float[] logits = decoder.ForwardBatch(cache, 0, [0, 0], [.. first.AsSpan(0, s), .. second.AsSpan(0, s)], s);
        all.AddRange(logits);
        int[] lengths = [s, s];
        for (int pass = 1; pass < passes; pass++)
        {
            int[] next = [Sampler.ArgMax(logits.AsSpan(0, vocab)), Sampler.ArgMax(logits.AsSpan(vocab, vocab))];
            logits = decoder.ForwardBatch(cache, 0, lengths, next, 1);
            all.AddRange(logits);
            lengths[0]++;
            lengths[1]++;
        }

        return [.. all];
    }
}
