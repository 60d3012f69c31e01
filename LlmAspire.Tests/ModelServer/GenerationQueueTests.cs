using System.Net;
using LlmAspire.Tests.AppHost;
using static LlmAspire.Tests.ModelServer.ModelServerHttp;

namespace LlmAspire.Tests.ModelServer;

/// <summary>Generations run one at a time behind a bounded queue; a full queue answers 503 with Retry-After.</summary>
[Collection(AspireAppCollection.Name)]
public sealed class GenerationQueueTests(AspireAppFixture fixture)
{
    /// <summary>Well over 1 running + the default ModelServer:MaxQueue of 16 waiting.</summary>
    private const int ConcurrentRequests = 64;

    private const int Rounds = 3;

    [Fact]
    public async Task Completions_MoreConcurrentRequestsThanTheQueueHolds_RefusesTheRestWith503AndRetryAfter()
    {
        using var client = fixture.CreateModelServerClient(0);
        // Long generations, so the first one still runs when the queue fills behind it.
        var json = Json(new Dictionary<string, object?>
        {
            ["prompt"] = StoryPrompt,
            ["max_tokens"] = 500,
            ["temperature"] = 1,
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
            // At least the running request and one waiting request were served.
            Assert.True(served.Count >= 2, $"{served.Count} served");

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
