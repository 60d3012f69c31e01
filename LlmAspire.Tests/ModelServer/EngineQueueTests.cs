using LlmAspire.Tests.Inference;
using System.Net;
using LlmAspire.Tests.AppHost;
using static LlmAspire.Tests.ModelServer.ModelServerHttp;

namespace LlmAspire.Tests.ModelServer;

/// <summary>
/// The engine runs up to ModelServer:MaxSequences (16) requests at once with up to ModelServer:MaxQueue (16) more
/// waiting; beyond that a request is refused at once with 503 and Retry-After rather than queued without bound.
/// </summary>
[Collection(AspireAppCollection.Name)]
public sealed class EngineQueueTests(AspireAppFixture fixture)
{
    /// <summary>Twice the 16 running + 16 waiting the default configuration admits.</summary>
    private const int ConcurrentRequests = 64;

    private const int Rounds = 3;

    [Stories260KFact]
    public async Task Completions_MoreConcurrentRequestsThanRunAndWait_RefusesTheRestWith503AndRetryAfter()
    {
        using var client = fixture.CreateModelServerClient(0);
        // Long generations (end of sequence banned), so the running ones still run when the queue fills behind them.
        var json = Json(new Dictionary<string, object?>
        {
            ["prompt"] = StoryPrompt,
            ["max_tokens"] = 500,
            ["temperature"] = 1,
            ["logit_bias"] = NoEos,
        });

        // A round normally overflows the queue at once; more rounds only guard against a very slow client.
        HttpResponseMessage[] responses = [];
        for (var round = 0; round < Rounds && !responses.Any(r => r.StatusCode == HttpStatusCode.ServiceUnavailable); round++)
        {
            Array.ForEach(responses, response => response.Dispose());
            responses = await Task.WhenAll(Enumerable.Range(0, ConcurrentRequests).Select(_ => PostCompletionAsync(client, json)))
                .WaitAsync(RequestTimeout);
        }

        try
        {
            var refused = responses.Where(r => r.StatusCode == HttpStatusCode.ServiceUnavailable).ToList();
            var served = responses.Where(r => r.StatusCode == HttpStatusCode.OK).ToList();
            Assert.NotEmpty(refused);
            Assert.Equal(ConcurrentRequests, refused.Count + served.Count);
            // At least a full queue was served (more when the engine admitted some before the queue filled).
            Assert.True(served.Count >= 16, $"{served.Count} served");

            foreach (var response in refused)
            {
                var retryAfter = response.Headers.RetryAfter;
                Assert.NotNull(retryAfter?.Delta);
                Assert.True(retryAfter.Delta > TimeSpan.Zero);
                await AssertErrorAsync(response, HttpStatusCode.ServiceUnavailable, "server_error", null, "queue_full");
            }
        }
        finally
        {
            Array.ForEach(responses, response => response.Dispose());
        }

        // The queue drains: the server serves again once the burst is over.
        using var after = await CompleteAsync(client, Json(new Dictionary<string, object?> { ["prompt"] = StoryPrompt, ["max_tokens"] = 4 }));
        Assert.Equal(4, after.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
    }
}
