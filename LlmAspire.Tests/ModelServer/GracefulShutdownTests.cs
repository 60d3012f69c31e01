using System.Net;
using System.Text;
using System.Text.Json;
using LlmAspire.Inference.Models;
using LlmAspire.Tests.AppHost;
using LlmAspire.Tests.Inference;
using static LlmAspire.Tests.ModelServer.ModelServerHttp;

namespace LlmAspire.Tests.ModelServer;

/// <summary>
/// A model server process given SIGTERM while it runs a stream and a non-streamed request, each held open by a slow
/// client (<see cref="HeldResponse"/>): it reports unready at once (liveness stays OK), refuses new requests with 503
/// <c>shutting_down</c> and <c>Retry-After</c> in the OpenAI error shape, writes both running responses to their end,
/// and exits 0; or, when the grace period ends first, exits anyway. No assertion rests on how fast anything runs: the
/// held responses stay open until the test releases them.
/// </summary>
public sealed class GracefulShutdownTests
{
    /// <summary>Choices of each held request: with <see cref="MaxTokens"/> and 20 top log-probabilities each, ~10 MB of response, more than the socket buffers hold.</summary>
    public const int Choices = 16;

    /// <summary>Tokens of each choice: stories260K's context is 512 and the chat prompt takes ~10.</summary>
    public const int MaxTokens = 480;

    private static readonly TimeSpan s_timeout = TimeSpan.FromMinutes(2);

    [Stories260KFact]
    public async Task SigTerm_WhileAStreamAndARequestRun_BothEndWhole_NewRequestsGet503_ReadinessFails_ThenItExits()
    {
        using var temp = TestPaths.CreateTempDirectory();
        using var server = ModelServerProcess.Start(ConvertStories260K(temp.Path), ("ModelServer__MaxSequences", "32"), ("ModelServer__ShutdownGracePeriodSeconds", "300"));
        using var client = await server.WaitUntilHealthyAsync(s_timeout);
        using var stream = await HeldResponse.SendAsync(server.Address, ChatCompletionsUri, LargeChat(stream: true));
        using var plain = await HeldResponse.SendAsync(server.Address, ChatCompletionsUri, LargeChat(stream: false));
        Assert.Equal(HttpStatusCode.OK, stream.Response.StatusCode);
        Assert.Equal(HttpStatusCode.OK, plain.Response.StatusCode);

        server.Terminate();

        await WaitForReadinessAsync(client, HttpStatusCode.ServiceUnavailable);
        using (var alive = await client.GetAsync(new Uri("/alive", UriKind.Relative)).WaitAsync(s_timeout))
        {
            Assert.Equal(HttpStatusCode.OK, alive.StatusCode);
        }

        using var refused = await PostCompletionAsync(client, SmallCompletion);
        Assert.True(refused.Headers.RetryAfter?.Delta > TimeSpan.Zero, $"Retry-After: {refused.Headers.RetryAfter}");
        Assert.True(refused.Headers.ConnectionClose, "a refusal while draining closes the connection");
        await AssertErrorAsync(refused, HttpStatusCode.ServiceUnavailable, "server_error", null, "shutting_down");

        stream.Release();
        plain.Release();
        AssertWholeStream(Encoding.UTF8.GetString(await stream.Body.WaitAsync(s_timeout)));
        AssertWholeResponse(Encoding.UTF8.GetString(await plain.Body.WaitAsync(s_timeout)));

        var (exitCode, output) = await server.WaitForExitAsync(s_timeout);
        Assert.True(exitCode == 0, $"exit code {exitCode}:\n{output}");
        Assert.Contains("Drained: every generation response ended", output, StringComparison.Ordinal);
    }

    [Stories260KFact]
    public async Task SigTerm_ResponseOutlastsTheGracePeriod_ItExitsAnywayAndSaysSo()
    {
        using var temp = TestPaths.CreateTempDirectory();
        using var server = ModelServerProcess.Start(ConvertStories260K(temp.Path), ("ModelServer__ShutdownGracePeriodSeconds", "1"));
        using var client = await server.WaitUntilHealthyAsync(s_timeout);
        using var stream = await HeldResponse.SendAsync(server.Address, ChatCompletionsUri, LargeChat(stream: true));

        server.Terminate();

        // Never released: the client would take minutes, so the server cuts it off after its grace period and exits.
        var (exitCode, output) = await server.WaitForExitAsync(s_timeout);
        Assert.True(exitCode == 0, $"exit code {exitCode}:\n{output}");
        Assert.Contains("The shutdown grace period ended", output, StringComparison.Ordinal);
    }

    /// <summary>stories260K converted into <paramref name="directory"/>; returns the model folder.</summary>
    internal static string ConvertStories260K(string directory)
    {
        var folder = Path.Combine(directory, AspireAppFixture.ModelId);
        ModelConverter.ConvertLlama2c(TestPaths.Stories260KCheckpoint, TestPaths.Stories260KTokenizer, folder);
        return folder;
    }

    /// <summary>A chat request of <see cref="Choices"/> × <see cref="MaxTokens"/> tokens with 20 top log-probabilities each (end of sequence banned).</summary>
    internal static string LargeChat(bool stream)
    {
        var body = new Dictionary<string, object?>
        {
            ["model"] = AspireAppFixture.ModelId,
            ["messages"] = new object[] { new Dictionary<string, object?> { ["role"] = "user", ["content"] = "Tell me a story." } },
            ["max_tokens"] = MaxTokens,
            ["n"] = Choices,
            ["temperature"] = 0.8,
            ["logprobs"] = true,
            ["top_logprobs"] = 20,
            ["logit_bias"] = NoEos,
            ["stream"] = stream,
        };
        if (stream)
        {
            body["stream_options"] = new Dictionary<string, object?> { ["include_usage"] = true };
        }

        return Json(body);
    }

    /// <summary>A small completion request.</summary>
    internal static string SmallCompletion { get; } = Json(new Dictionary<string, object?>
    {
        ["model"] = AspireAppFixture.ModelId,
        ["prompt"] = StoryPrompt,
        ["max_tokens"] = 8,
        ["temperature"] = 0,
    });

    /// <summary>Polls <c>/health</c> until it answers <paramref name="status"/> (bounded).</summary>
    internal static async Task WaitForReadinessAsync(HttpClient client, HttpStatusCode status)
    {
        using var deadline = new CancellationTokenSource(s_timeout);
        while (true)
        {
            using var health = await client.GetAsync(new Uri("/health", UriKind.Relative), deadline.Token);
            if (health.StatusCode == status)
            {
                return;
            }

            await Task.Delay(50, deadline.Token);
        }
    }

    /// <summary>Asserts a held stream ended with every choice finished at its budget, the usage of all of them, and <c>[DONE]</c>.</summary>
    internal static void AssertWholeStream(string text)
    {
        var events = text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries)
            .Select(item => Assert.Single(item.Split('\n'), line => line.StartsWith("data: ", StringComparison.Ordinal))["data: ".Length..])
            .ToList();
        Assert.Equal("[DONE]", events[^1]);
        var finished = new HashSet<int>();
        int? completionTokens = null;
        foreach (var data in events.SkipLast(1))
        {
            using var chunk = JsonDocument.Parse(data);
            Assert.False(chunk.RootElement.TryGetProperty("error", out _), data);
            foreach (var choice in chunk.RootElement.GetProperty("choices").EnumerateArray())
            {
                if (choice.GetProperty("finish_reason").ValueKind == JsonValueKind.String)
                {
                    Assert.Equal("length", choice.GetProperty("finish_reason").GetString());
                    Assert.True(finished.Add(choice.GetProperty("index").GetInt32()));
                }
            }

            if (chunk.RootElement.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object)
            {
                completionTokens = usage.GetProperty("completion_tokens").GetInt32();
            }
        }

        Assert.Equal(Choices, finished.Count);
        Assert.Equal(Choices * MaxTokens, completionTokens);
    }

    /// <summary>Asserts a held non-streamed response carries every choice finished at its budget.</summary>
    internal static void AssertWholeResponse(string text)
    {
        using var document = JsonDocument.Parse(text);
        var choices = document.RootElement.GetProperty("choices").EnumerateArray().ToList();
        Assert.Equal(Choices, choices.Count);
        Assert.All(choices, choice => Assert.Equal("length", choice.GetProperty("finish_reason").GetString()));
        Assert.Equal(Choices * MaxTokens, document.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
    }
}
