using LlmAspire.Inference.Engine;
using LlmAspire.Inference.Models;
using LlmAspire.Inference.Models.Quantization;
using Xunit.Abstractions;

namespace LlmAspire.Tests.Inference;

/// <summary>
/// LlmAspire's GroupQueryAttention kernel (<see cref="AttentionKernelChoice.LlmAspire"/>, the CPU default) against ONNX
/// Runtime's own on the same graph, for every demo architecture (packed q/k/v, q/k norms, padded heads, partial rotary,
/// sliding windows, softcap, Gemma 3's local rotary): the same logits to float rounding, the same greedy choice, through
/// a one-sequence prefill and decode with separate past and present tensors, a chunked prefill, and the engine's shared
/// KV cache with rows of different lengths decoding together past the sliding window.
/// </summary>
public sealed class AttentionKernelTests(ITestOutputHelper output)
{
    /// <summary>
    /// Largest logit difference allowed, relative to the largest logit. Both kernels compute the same sums in float32;
    /// ONNX Runtime's through GEMM calls and its own exp, ours in another order with .NET's, which moves a result by
    /// units in the last place; through a few layers that stays near 1e-6 of the largest logit.
    /// </summary>
    private const double Tolerance = 1e-5;

    /// <summary>Every architecture <c>create-demo</c> writes.</summary>
    public static TheoryData<string> Architectures => [.. DemoPresets.Architectures];

    [Theory]
    [MemberData(nameof(Architectures))]
    public void OurKernel_SameLogitsAsOnnxRuntimes(string architecture)
    {
        DemoPreset preset = DemoPresets.Get(DemoPresets.Tiny.Name, architecture);
        if (preset.Config.SlidingWindow > 0)
        {
            // A window the sequences below cross (the tiny preset's is a fraction of its 1,024 positions).
            preset = preset with { Config = preset.Config with { SlidingWindow = 24 } };
        }

        AssertSameLogits(preset, architecture);
    }

    /// <summary>
    /// Heads 64 wide, as most models have (the tiny preset's are 16): the kernel sums values 64 dimensions at a time on
    /// AVX-512 and rotates eight pairs at a time, paths a 16-wide head does not reach in full.
    /// </summary>
    [Fact]
    public void OurKernel_SameLogitsAsOnnxRuntimes_With64WideHeads()
    {
        DemoPreset preset = DemoPresets.Get(DemoPresets.Tiny.Name);
        preset = preset with { Config = preset.Config with { Dim = 128, Heads = 2, KvHeads = 1 } };
        Assert.Equal(64, preset.Config.Dim / preset.Config.Heads);
        AssertSameLogits(preset, "llama, 64-wide heads");
    }

    /// <summary>
    /// Enough heads and positions that a decode step's attention is split across two threads (above the kernel's
    /// inline threshold), each item writing its own row's new keys and values into the shared cache.
    /// </summary>
    [Fact]
    public void OurKernel_SameLogitsAsOnnxRuntimes_OnTwoThreads()
    {
        DemoPreset preset = DemoPresets.Get(DemoPresets.Tiny.Name);
        preset = preset with { Config = preset.Config with { Dim = 1024, Heads = 16, KvHeads = 4 } };
        AssertSameLogits(preset, "llama, 16 heads of 64, 2 threads", threads: 2);
    }

    private void AssertSameLogits(DemoPreset preset, string architecture, int threads = 0)
    {
        using var temp = TestPaths.CreateTempDirectory();
        DemoPresets.Write(preset, temp.Path);
        (LlamaConfig config, GenAiConfig genai) = ModelFolder.ReadConfig(temp.Path);
        string graph = Path.Combine(temp.Path, genai.Model.Decoder.Filename);
        DecoderIoNames names = DecoderIoNames.FromConfig(genai.Model.Decoder);
        using DecoderSession ours = DecoderSession.Open(graph, config, ExecutionProviderPreference.Cpu, names, threads, attention: AttentionKernelChoice.LlmAspire);
        using DecoderSession theirs = DecoderSession.Open(graph, config, ExecutionProviderPreference.Cpu, names, threads, attention: AttentionKernelChoice.OnnxRuntime);
        Assert.Equal(AttentionKernelChoice.LlmAspire, ours.Attention);
        Assert.Null(ours.AttentionFallbackReason);
        Assert.Equal(AttentionKernelChoice.OnnxRuntime, theirs.Attention);
        int vocab = config.VocabSize;
        double worst = 0;

        // One sequence with its own past: a 40-token prefill (every position), a 3-token chunk, then 30 single tokens.
        using (DecoderState a = ours.CreateState())
        using (DecoderState b = theirs.CreateState())
        {
            int[] prompt = Tokens(40, seed: 1);
            worst = Math.Max(worst, AssertClose(theirs.Forward(b, prompt, allPositions: true), ours.Forward(a, prompt, allPositions: true), vocab, "prefill"));
            worst = Math.Max(worst, AssertClose(theirs.Forward(b, [5, 6, 7], allPositions: true), ours.Forward(a, [5, 6, 7], allPositions: true), vocab, "chunk"));
            foreach (int token in Tokens(30, seed: 2))
            {
                worst = Math.Max(worst, AssertClose(theirs.Forward(b, [token]), ours.Forward(a, [token]), vocab, "decode"));
            }
        }

        // The engine's shared KV cache: three rows prefilled one by one (different lengths), then decoding together.
        int[][] prompts = [Tokens(9, seed: 3), Tokens(2, seed: 4), Tokens(33, seed: 5)];
        using KvCache ourCache = ours.CreateKvCache(prompts.Length, 128);
        using KvCache theirCache = theirs.CreateKvCache(prompts.Length, 128);
        int[] lengths = new int[prompts.Length];
        float[][] last = new float[prompts.Length][];
        for (int r = 0; r < prompts.Length; r++)
        {
            float[] expected = theirs.ForwardBatch(theirCache, r, [0], prompts[r], prompts[r].Length, allPositions: true);
            worst = Math.Max(worst, AssertClose(expected, ours.ForwardBatch(ourCache, r, [0], prompts[r], prompts[r].Length, allPositions: true), vocab, $"row {r} prefill"));
            last[r] = expected[^vocab..];
            lengths[r] = prompts[r].Length;
        }

        for (int step = 0; step < 60; step++)
        {
            int[] next = [.. last.Select(l => Sampler.ArgMax(l))]; // ONNX Runtime's greedy choice drives both
            float[] expected = theirs.ForwardBatch(theirCache, 0, lengths, next, 1);
            worst = Math.Max(worst, AssertClose(expected, ours.ForwardBatch(ourCache, 0, lengths, next, 1), vocab, $"batch step {step}"));
            for (int r = 0; r < prompts.Length; r++)
            {
                last[r] = expected[(r * vocab)..((r + 1) * vocab)];
                lengths[r]++;
            }
        }

        output.WriteLine($"{architecture}: max |ours - ONNX Runtime's| / max |logit| = {worst:E2}");
    }

    /// <summary>
    /// With int8 activations (MatMulNBits accuracy level 4) a last-place difference in attention can round an activation
    /// to the next step, so int8 logits are not bit-equal across kernels; what must hold is the quantization's cost: the
    /// KL divergence from the float32 model, position by position on the float32 model's greedy path, stays what it is
    /// with ONNX Runtime's kernel (the 100M model measured 1.945e-3 with ours vs 1.951e-3, docs/BENCHMARKS.md).
    /// </summary>
    [Fact]
    public void Int8Graph_KeepsTheQuantizationsKlDivergence()
    {
        using var temp = TestPaths.CreateTempDirectory();
        string float32 = Path.Combine(temp.Path, "fp32");
        string int8 = Path.Combine(temp.Path, "int8");
        DemoPresets.Write(DemoPresets.Tiny, float32);
        ModelQuantizer.QuantizeFolder(float32, int8, QuantizationOptions.Parse("int8-b32-asym-acc4"));
        (LlamaConfig config, GenAiConfig genai) = ModelFolder.ReadConfig(float32);
        DecoderIoNames names = DecoderIoNames.FromConfig(genai.Model.Decoder);
        using DecoderSession reference = DecoderSession.Open(Path.Combine(float32, genai.Model.Decoder.Filename), config, ExecutionProviderPreference.Cpu, names, attention: AttentionKernelChoice.OnnxRuntime);
        using DecoderSession theirs = DecoderSession.Open(Path.Combine(int8, genai.Model.Decoder.Filename), config, ExecutionProviderPreference.Cpu, names, attention: AttentionKernelChoice.OnnxRuntime);
        using DecoderSession ours = DecoderSession.Open(Path.Combine(int8, genai.Model.Decoder.Filename), config, ExecutionProviderPreference.Cpu, names, attention: AttentionKernelChoice.LlmAspire);
        Assert.Equal(AttentionKernelChoice.LlmAspire, ours.Attention);
        using DecoderState r = reference.CreateState(), a = theirs.CreateState(), b = ours.CreateState();
        int[] prompt = Tokens(8, seed: 6);
        float[] expected = reference.Forward(r, prompt), theirLogits = theirs.Forward(a, prompt), ourLogits = ours.Forward(b, prompt);
        double theirKl = 0, ourKl = 0;
        for (int step = 0; step < 60; step++)
        {
            theirKl += QuantizationMetrics.KlDivergence(expected, theirLogits);
            ourKl += QuantizationMetrics.KlDivergence(expected, ourLogits);
            int next = Sampler.ArgMax(expected);
            (expected, theirLogits, ourLogits) = (reference.Forward(r, [next]), theirs.Forward(a, [next]), ours.Forward(b, [next]));
        }

        output.WriteLine($"mean KL(float32 || int8) over 60 positions: ONNX Runtime's attention {theirKl / 60:E3}, ours {ourKl / 60:E3}");
        Assert.True(theirKl > 0, "int8 should differ from float32 at all");
        Assert.True(ourKl <= theirKl * 1.25, $"int8 with our kernel drifts further from float32: KL {ourKl / 60:E3} vs {theirKl / 60:E3}");
    }

    [Fact]
    public void Float16Graph_RunsOnnxRuntimesKernel_AndSaysWhy()
    {
        using var temp = TestPaths.CreateTempDirectory();
        string float32 = Path.Combine(temp.Path, "fp32");
        string float16 = Path.Combine(temp.Path, "fp16");
        DemoPresets.Write(DemoPresets.Tiny, float32);
        ModelQuantizer.QuantizeFolder(float32, float16, QuantizationOptions.Parse("fp16"));
        (LlamaConfig config, GenAiConfig genai) = ModelFolder.ReadConfig(float16);
        using DecoderSession session = DecoderSession.Open(Path.Combine(float16, genai.Model.Decoder.Filename), config, ExecutionProviderPreference.Cpu, DecoderIoNames.FromConfig(genai.Model.Decoder));
        Assert.Equal(AttentionKernelChoice.OnnxRuntime, session.Attention);
        Assert.Contains("float16", session.AttentionFallbackReason, StringComparison.Ordinal);
        using DecoderState state = session.CreateState();
        Assert.Equal(config.VocabSize, session.Forward(state, [1, 40, 7]).Length);
    }

    private static int[] Tokens(int count, int seed)
    {
        var random = new Random(seed);
        return [1, .. Enumerable.Range(1, count - 1).Select(_ => random.Next(3, 200))];
    }

    /// <summary>Asserts every position's logits agree within <see cref="Tolerance"/> and pick the same token; returns the relative difference.</summary>
    private static double AssertClose(float[] expected, float[] actual, int vocab, string label)
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = expected.Max(MathF.Abs);
        double difference = expected.Zip(actual, (e, a) => Math.Abs((double)e - a)).Max() / scale;
        Assert.True(difference <= Tolerance, $"{label}: max |ours - ONNX Runtime's| is {difference:E2} of the largest logit");
        for (int p = 0; p < expected.Length / vocab; p++)
        {
            Assert.Equal(Sampler.ArgMax(expected.AsSpan(p * vocab, vocab)), Sampler.ArgMax(actual.AsSpan(p * vocab, vocab)));
        }

        return difference;
    }
}
