using LlmAspire.Inference.Models;
using LlmAspire.Tests.Inference;
using static LlmAspire.Tests.ModelServer.ModelServerHttp;

namespace LlmAspire.Tests.ModelServer;

/// <summary>
/// <c>ModelServer:Speculative:*</c> as an operator sets it: the model server process built by this run, configured by
/// environment variables, refuses bad values at start-up and, configured well, speculates and counts it under vLLM's names.
/// </summary>
public sealed class SpeculativeDecodingServerTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromMinutes(2);

    [Theory]
    [InlineData("Tokens", "33", "ModelServer:Speculative:Tokens must be between 0 (off) and 32.")]
    [InlineData("MinNgram", "5", "ModelServer:Speculative:MinNgram must be between 1 and ModelServer:Speculative:MaxNgram (4); it is 5.")]
    [InlineData("MaxBatch", "0", "ModelServer:Speculative:MaxBatch must be between 1 and 1024.")]
    public async Task Start_InvalidSpeculativeSetting_ExitsNamingIt(string name, string value, string message)
    {
        using var server = ModelServerProcess.Start(null, ($"ModelServer__Speculative__{name}", value));

        var (exitCode, output) = await server.WaitForExitAsync(s_timeout);

        Assert.NotEqual(0, exitCode);
        Assert.Contains(message, output, StringComparison.Ordinal);
    }

    [Stories260KFact]
    public async Task Completion_WithSpeculationOn_IsTheKnownGreedyTextAndCountsAcceptedTokens()
    {
        using var temp = TestPaths.CreateTempDirectory();
        var folder = Path.Combine(temp.Path, AppHost.AspireAppFixture.ModelId);
        ModelConverter.ConvertLlama2c(TestPaths.Stories260KCheckpoint, TestPaths.Stories260KTokenizer, folder);
        using var server = ModelServerProcess.Start(folder, ("ModelServer__Speculative__Tokens", "4"), ("ModelServer__Speculative__MinNgram", "1"));
        using var client = await server.WaitUntilHealthyAsync(s_timeout);

        using var completion = await CompleteAsync(client, Json(new Dictionary<string, object?>
        {
            ["model"] = AppHost.AspireAppFixture.ModelId,
            ["prompt"] = StoryPrompt,
            ["max_tokens"] = 60,
            ["temperature"] = 0,
        }));
        var metrics = await ModelServerMetrics.ScrapeAsync(client);

        Assert.Equal(KnownContinuation, completion.RootElement.GetProperty("choices")[0].GetProperty("text").GetString());
        var drafts = metrics.Value("vllm:spec_decode_num_drafts_total");
        var proposed = metrics.Value("vllm:spec_decode_num_draft_tokens_total");
        var accepted = metrics.Value("vllm:spec_decode_num_accepted_tokens_total");
        Assert.True(drafts > 0 && proposed >= drafts, $"{drafts} drafts of {proposed} tokens");
        Assert.InRange(accepted, 1, proposed);
    }
}
