using LlmAspire.Inference;
using LlmAspire.Inference.Engine;
using LlmAspire.Inference.Models;
using LlmAspire.Inference.Models.Quantization;
using LlmAspire.Tests.Inference.GenAi;

namespace LlmAspire.Tests.Inference.Quantization;

/// <summary>ONNX Runtime GenAI 0.18 (CPU) loads our quantized and float16 folders and decodes them as our engine does.</summary>
public sealed class QuantizedGenAiPeerTests
{
    [Stories260KTheory]
    [InlineData("int8-b32-asym-acc4")]
    [InlineData("int4-b32-sym-acc4")]
    [InlineData("int4-b32-asym-acc0-head")]
    [InlineData("fp16")]
    [InlineData("int4-b32-asym-acc4-awq")] // RMSNorm weights rescaled, Mul nodes before o_proj and down_proj
    [InlineData("int4-b32-asym-acc4-gptq")]
    public void GenAi_LoadsOurQuantizedStories260K_AndItsGreedyTokensEqualOurs(string variant)
    {
        using var temp = TestPaths.CreateTempDirectory();
        string fp32 = Path.Combine(temp.Path, "stories260K");
        ModelConverter.ConvertLlama2c(TestPaths.Stories260KCheckpoint, TestPaths.Stories260KTokenizer, fp32);
        string folder = Path.Combine(temp.Path, variant);
        ModelQuantizer.QuantizeFolder(fp32, folder, QuantizationOptions.Parse(variant));
        using LanguageModel ours = LanguageModel.Load(folder, ExecutionProviderPreference.Cpu);
        int[] prompt = ours.Tokenizer.Encode("Once upon a time", addBos: true);
        List<int> ourTokens = OrtGenAiPeerTests.GreedyTokens(ours, prompt, 60);

        int[] theirs = OrtGenAiPeerTests.GenAiGreedy(folder, prompt, prompt.Length + 60);

        Assert.Equal(ourTokens, theirs[prompt.Length..]);
    }
}
