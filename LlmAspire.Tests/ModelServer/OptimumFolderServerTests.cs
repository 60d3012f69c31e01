using LlmAspire.Tests.Inference;
using static LlmAspire.Tests.ModelServer.ModelServerHttp;

namespace LlmAspire.Tests.ModelServer;

/// <summary>
/// A model server serving an Optimum-style export (no genai_config.json) over <c>/v1/completions</c>: the per-sequence
/// attention path behind the unchanged API gives stories260K's known story, and concurrent requests answer as alone.
/// </summary>
public sealed class OptimumFolderServerTests(OptimumFolderServerFixture fixture) : IClassFixture<OptimumFolderServerFixture>
{
    private static readonly string[] s_prompts = ["Lily and Ben", "The cat sat on the mat and looked at the big red", "One day", "Tom had a toy car. He", "Sam"];

    [Stories260KFact]
    public async Task Completions_OptimumFolder_AnswersTheKnownStory_AndTheLogNamesThePerSequencePath()
    {
        using var client = fixture.CreateClient();

        using var completion = await CompleteAsync(client, Json(new Dictionary<string, object?>
        {
            ["model"] = OptimumFolderServerFixture.ModelId,
            ["prompt"] = StoryPrompt,
            ["max_tokens"] = 60,
            ["temperature"] = 0,
        }));

        Assert.Equal(OptimumFolderServerFixture.ModelId, completion.RootElement.GetProperty("model").GetString());
        Assert.Equal(KnownContinuation, completion.RootElement.GetProperty("choices")[0].GetProperty("text").GetString());
        string line = await fixture.WaitForLogAsync("Attention path PerSequence", RequestTimeout);
        Assert.Contains("right-padding", line, StringComparison.Ordinal);
    }

    [Stories260KFact]
    public async Task Completions_ConcurrentRequests_EachAnswersAsItDidAlone()
    {
        using var client = fixture.CreateClient();
        string Body(string prompt) => Json(new Dictionary<string, object?> { ["prompt"] = prompt, ["max_tokens"] = 40, ["temperature"] = 0, ["logit_bias"] = NoEos });
        async Task<string> TextAsync(string prompt)
        {
            using var completion = await CompleteAsync(client, Body(prompt));
            return completion.RootElement.GetProperty("choices")[0].GetProperty("text").GetString()!;
        }

        var alone = new List<string>();
        foreach (string prompt in s_prompts)
        {
            alone.Add(await TextAsync(prompt));
        }

        string[] together = await Task.WhenAll(s_prompts.Select(TextAsync)).WaitAsync(RequestTimeout);

        Assert.Equal(alone, together);
    }
}
