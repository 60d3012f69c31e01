using LlmAspire.Inference;
using LlmAspire.Inference.Engine;
using LlmAspire.Inference.Models;
using Microsoft.ML.OnnxRuntimeGenAI;

namespace LlmAspire.Tests.Inference.GenAi;

/// <summary>ONNX Runtime GenAI 0.18 (CPU) is a peer: it must load the folders we write and agree with our engine.</summary>
public sealed class OrtGenAiPeerTests
{
    [Stories260KFact]
    public void GenAi_LoadsOurStories260KFolder_AndItsGreedyTokensEqualOurs()
    {
        using var temp = TestPaths.CreateTempDirectory();
        string folder = Path.Combine(temp.Path, "stories260K");
        ModelConverter.ConvertLlama2c(TestPaths.Stories260KCheckpoint, TestPaths.Stories260KTokenizer, folder);
        using LanguageModel ours = LanguageModel.Load(folder, ExecutionProviderPreference.Cpu);
        int[] prompt = ours.Tokenizer.Encode("Once upon a time", addBos: true);
        List<int> ourTokens = GreedyTokens(ours, prompt, 60);

        int[] theirs = GenAiGreedy(folder, prompt, prompt.Length + 60);

        Assert.Equal(prompt, theirs[..prompt.Length]);
        Assert.Equal(ourTokens, theirs[prompt.Length..]);
    }

    internal static int[] GenAiGreedy(string folder, int[] prompt, int maxLength)
    {
        using var model = new Model(folder);
        using var parameters = new GeneratorParams(model);
        parameters.SetSearchOption("max_length", maxLength);
        parameters.SetSearchOption("do_sample", false);
        using var generator = new Generator(model, parameters);
        generator.AppendTokens(prompt);
        while (!generator.IsDone())
        {
            generator.GenerateNextToken();
        }

        return generator.GetSequence(0).ToArray();
    }

    internal static List<int> GreedyTokens(LanguageModel model, int[] prompt, int count)
    {
        // Token ids, not text: drive the decoder step by step with the engine's own sampler.
        var tokens = new List<int>();
        using DecoderState state = model.Decoder.CreateState();
        float[] logits = model.Decoder.Forward(state, prompt);
        for (int i = 0; i < count; i++)
        {
            int next = Sampler.ArgMax(logits);
            tokens.Add(next);
            if (next == model.EosId)
            {
                break;
            }

            logits = model.Decoder.Forward(state, [next]);
        }

        return tokens;
    }
}
