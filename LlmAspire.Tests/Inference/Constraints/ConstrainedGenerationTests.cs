extern alias JsonEverything;

using System.Text;
using System.Text.Json;
using JsonEverything::Json.Schema;
using LlmAspire.Inference;
using LlmAspire.Inference.Constraints;
using LlmAspire.Inference.Engine;
using LlmAspire.Inference.Models;

namespace LlmAspire.Tests.Inference.Constraints;

/// <summary>
/// Constrained decoding inside the continuous-batching engine on stories260K (a real model whose SentencePiece
/// vocabulary spells JSON punctuation with byte-fallback tokens): constrained and free sequences share batches.
/// </summary>
public sealed class ConstrainedGenerationTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    private const string Schema = """
        {"type":"object","properties":{
            "name":{"type":"string","maxLength":12},
            "age":{"type":"integer","minimum":0,"maximum":120},
            "mood":{"enum":["happy","sad","sleepy"]},
            "friends":{"type":"array","items":{"type":"string","maxLength":6},"maxItems":2}},
         "required":["name","age","mood"],"additionalProperties":false}
        """;

    [Stories260KFact]
    public async Task SampledJsonSchemaOutputs_AllValidate_AndFreeSequencesInTheSameBatchAreUnchanged()
    {
        using var temp = TestPaths.CreateTempDirectory();
        using LanguageModel model = LanguageModel.Load(Convert(temp), ExecutionProviderPreference.Cpu, new EngineOptions { MaxSequences = 16 });
        CompiledGrammar grammar = model.Grammars.Get(OutputConstraint.JsonSchema(Schema));
        string[] freePrompts = ["Once upon a time", "Lily and Ben", "The cat sat", "One day"];
        var alone = new List<string>();
        foreach (string prompt in freePrompts)
        {
            alone.Add((await CompleteAsync(model, new GenerationRequest(model.Tokenizer.Encode(prompt, true), 40, Temperature: 0))).Text);
        }

        // 12 constrained sampled sequences (temperature 1) and the 4 free greedy ones, all at once.
        Task<(string Text, FinishReason? Reason)>[] constrained =
        [
            .. Enumerable.Range(0, 12).Select(i => CompleteAsync(model, new GenerationRequest(model.Tokenizer.Encode("Tom said", true), 400, Temperature: 1f, Seed: i) { Grammar = grammar })),
        ];
        Task<(string Text, FinishReason? Reason)>[] free = [.. freePrompts.Select(p => CompleteAsync(model, new GenerationRequest(model.Tokenizer.Encode(p, true), 40, Temperature: 0)))];
        await Task.WhenAll([.. constrained, .. free]);

        Assert.Equal(alone, free.Select(f => f.Result.Text));
        JsonSchema validator = JsonSchema.FromText(Schema);
        foreach ((string text, FinishReason? reason) in constrained.Select(c => c.Result))
        {
            Assert.Equal(FinishReason.Stop, reason);
            using JsonDocument document = JsonDocument.Parse(text);
            Assert.True(validator.Evaluate(document.RootElement).IsValid, $"not valid: {text}");
        }
    }

    [Stories260KFact]
    public async Task MaxTokensMidObject_EndsWithLength_AndTheOutputIsAValidPrefix()
    {
        using var temp = TestPaths.CreateTempDirectory();
        using LanguageModel model = LanguageModel.Load(Convert(temp), ExecutionProviderPreference.Cpu);
        CompiledGrammar grammar = model.Grammars.Get(OutputConstraint.JsonSchema(Schema));

        (string text, FinishReason? reason) = await CompleteAsync(model, new GenerationRequest(model.Tokenizer.Encode("Tom said", true), 5, Temperature: 0) { Grammar = grammar });

        Assert.Equal(FinishReason.Length, reason);
        Assert.True(grammar.IsPrefix(text), text);
        Assert.False(grammar.Matches(text), text);
    }

    [Stories260KFact]
    public async Task RegexAndChoice_GreedyOutputsMatch()
    {
        using var temp = TestPaths.CreateTempDirectory();
        using LanguageModel model = LanguageModel.Load(Convert(temp), ExecutionProviderPreference.Cpu);
        int[] prompt = model.Tokenizer.Encode("Once upon a time", true);

        (string code, FinishReason? codeReason) = await CompleteAsync(model, new GenerationRequest(prompt, 50, Temperature: 0) { Grammar = model.Grammars.Get(OutputConstraint.Regex(@"\d{3}-[a-z]{2,4}")) });
        (string pick, FinishReason? pickReason) = await CompleteAsync(model, new GenerationRequest(prompt, 50, Temperature: 0) { Grammar = model.Grammars.Get(OutputConstraint.Choice(["happy ending", "sad ending", "no ending"])) });

        Assert.Matches(@"^\d{3}-[a-z]{2,4}$", code);
        Assert.Equal(FinishReason.Stop, codeReason);
        Assert.Contains(pick, new[] { "happy ending", "sad ending", "no ending" });
        Assert.Equal(FinishReason.Stop, pickReason);
        Assert.Equal(2, model.Grammars.Count);
        Assert.Same(model.Grammars.Get(OutputConstraint.Regex(@"\d{3}-[a-z]{2,4}")), model.Grammars.Get(OutputConstraint.Regex(@"\d{3}-[a-z]{2,4}")));
    }

    private static string Convert(TempDirectory temp)
    {
        string folder = Path.Combine(temp.Path, "stories260K");
        ModelConverter.ConvertLlama2c(TestPaths.Stories260KCheckpoint, TestPaths.Stories260KTokenizer, folder);
        return folder;
    }

    private static async Task<(string Text, FinishReason? Reason)> CompleteAsync(LanguageModel model, GenerationRequest request)
    {
        var text = new StringBuilder();
        FinishReason? reason = null;
        using var cts = new CancellationTokenSource(Timeout);
        await foreach (GenerationUpdate update in model.GenerateAsync(request, cts.Token))
        {
            text.Append(update.Text);
            reason ??= update.FinishReason;
        }

        return (text.ToString(), reason);
    }
}
