using LlmAspire.Inference;
using LlmAspire.Inference.Engine;
using LlmAspire.Inference.Models;

namespace LlmAspire.Tests.Inference;

public sealed class Stories260KTests
{
    /// <summary>The known greedy continuation from ../shared/models/stories260K/README.md.</summary>
    public const string KnownContinuation =
        ", there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red ball. She wanted to play with it, but it was too high.\nLily";

    [Stories260KFact]
    public async Task Generate_Greedy_ReproducesTheKnownAnswerTokenForToken()
    {
        using var temp = TestPaths.CreateTempDirectory();
        string folder = Path.Combine(temp.Path, "stories260K");
        ModelConverter.ConvertLlama2c(TestPaths.Stories260KCheckpoint, TestPaths.Stories260KTokenizer, folder);
        using LanguageModel model = LanguageModel.Load(folder, ExecutionProviderPreference.Cpu);
        int[] prompt = model.Tokenizer.Encode("Once upon a time", addBos: true);

        // llama2.c's "-n 64" runs 64 forward passes from BOS; the first four feed the prompt, the other 60 generate.
        const int generated = 60;
        Assert.Equal(5, prompt.Length);
        var request = new GenerationRequest(prompt, MaxTokens: generated, Temperature: 0);
        var text = new System.Text.StringBuilder();
        GenerationUpdate? last = null;
        await foreach (GenerationUpdate update in model.GenerateAsync(request).WithCancellation(CancellationToken.None))
        {
            text.Append(update.Text);
            last = update;
        }

        Assert.Equal("stories260K", model.Id);
        Assert.Equal(KnownContinuation, text.ToString());
        Assert.NotNull(last);
        Assert.Equal(FinishReason.Length, last.FinishReason);
        Assert.Equal(generated, last.CompletionTokens);
    }

    [Stories260KFact]
    public async Task Generate_StopString_EndsBeforeItAndReportsStop()
    {
        using var temp = TestPaths.CreateTempDirectory();
        string folder = Path.Combine(temp.Path, "stories260K");
        ModelConverter.ConvertLlama2c(TestPaths.Stories260KCheckpoint, TestPaths.Stories260KTokenizer, folder);
        using LanguageModel model = LanguageModel.Load(folder, ExecutionProviderPreference.Cpu);
        var request = new GenerationRequest(model.Tokenizer.Encode("Once upon a time", addBos: true), 60, Temperature: 0, Stop: ["Lily."]);

        var text = new System.Text.StringBuilder();
        FinishReason? finish = null;
        await foreach (GenerationUpdate update in model.GenerateAsync(request))
        {
            text.Append(update.Text);
            finish = update.FinishReason ?? finish;
        }

        Assert.Equal(", there was a little girl named ", text.ToString());
        Assert.Equal(FinishReason.Stop, finish);
    }

    [Stories260KFact]
    public async Task Generate_SameSeed_SameSample_DifferentSeed_Differs()
    {
        using var temp = TestPaths.CreateTempDirectory();
        string folder = Path.Combine(temp.Path, "stories260K");
        ModelConverter.ConvertLlama2c(TestPaths.Stories260KCheckpoint, TestPaths.Stories260KTokenizer, folder);
        using LanguageModel model = LanguageModel.Load(folder, ExecutionProviderPreference.Cpu);
        int[] prompt = model.Tokenizer.Encode("Once upon a time", addBos: true);

        async Task<string> SampleAsync(long seed)
        {
            var text = new System.Text.StringBuilder();
            await foreach (GenerationUpdate update in model.GenerateAsync(new GenerationRequest(prompt, 40, Temperature: 1.0f, TopP: 0.9f, Seed: seed)))
            {
                text.Append(update.Text);
            }

            return text.ToString();
        }

        string a = await SampleAsync(42);
        string b = await SampleAsync(42);
        string c = await SampleAsync(43);
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }
}
