using LlmAspire.Inference;
using LlmAspire.Inference.Engine;
using LlmAspire.Inference.Models;
using LlmAspire.Inference.Models.Quantization;

namespace LlmAspire.Tests.Inference.Quantization;

/// <summary>stories260K (../shared) quantized: what greedy decoding keeps of the float32 answer.</summary>
public sealed class QuantizedStories260KTests
{
    [Stories260KTheory]
    [InlineData("int8-b32-asym-acc4", 60)] // the whole known continuation
    [InlineData("int8-b32-asym-acc0", 60)]
    [InlineData("int4-b32-asym-acc4", 16)] // ", there was a little girl named Lily. She loved to play", then "with her toys"
    public void Generate_Greedy_MatchesFloat32ForTheFirstTokens(string variant, int equalTokens)
    {
        using var temp = TestPaths.CreateTempDirectory();
        string fp32 = Path.Combine(temp.Path, "stories260K");
        ModelConverter.ConvertLlama2c(TestPaths.Stories260KCheckpoint, TestPaths.Stories260KTokenizer, fp32);
        string quantized = Path.Combine(temp.Path, variant);
        ModelQuantizer.QuantizeFolder(fp32, quantized, QuantizationOptions.Parse(variant));

        int[] expected = Greedy(fp32, 60);
        int[] actual = Greedy(quantized, 60);

        int same = QuantizationMetrics.CommonPrefix(expected, actual);
        Assert.True(same >= equalTokens, $"{variant}: {same} of 60 tokens equal");
    }

    private static int[] Greedy(string folder, int count)
    {
        using LanguageModel model = LanguageModel.Load(folder, ExecutionProviderPreference.Cpu);
        using DecoderState state = model.Decoder.CreateState();
        var tokens = new List<int>();
        float[] logits = model.Decoder.Forward(state, model.Tokenizer.Encode("Once upon a time", addBos: true));
        for (int i = 0; i < count; i++)
        {
            tokens.Add(Sampler.ArgMax(logits));
            logits = model.Decoder.Forward(state, [tokens[^1]]);
        }

        return [.. tokens];
    }
}
