using LlmAspire.Tests.Inference;
using System.Diagnostics;
using System.Net;
using System.Text.Json;
using LlmAspire.Tests.AppHost;
using static LlmAspire.Tests.ModelServer.ModelServerHttp;

namespace LlmAspire.Tests.ModelServer;

/// <summary>
/// The engine behind the API, seen from outside: concurrent requests share decode steps (vLLM's metrics show it),
/// repeated prompts reuse cached KV, and a client that goes away frees its sequence at once.
/// </summary>
[Collection(AspireAppCollection.Name)]
public sealed class ContinuousBatchingTests(AspireAppFixture fixture)
{
    private static readonly TimeSpan s_settleTimeout = TimeSpan.FromSeconds(30);

    [Stories260KFact]
    public async Task ConcurrentStreams_AllSucceed_AndRunInOneBatch()
    {
        const int Streams = 8;
        const int MaxTokens = 400;
        using var client = fixture.CreateModelServerClient(1);
        using var metricsClient = fixture.CreateModelServerClient(1);
        var before = await ModelServerMetrics.ScrapeAsync(metricsClient);

        // Watch the running gauge while the streams run.
        using var stop = new CancellationTokenSource();
        var watcher = Task.Run(async () =>
        {
            double most = 0;
            try
            {
                while (true)
                {
                    var metrics = await ModelServerMetrics.ScrapeAsync(metricsClient, stop.Token);
                    most = Math.Max(most, metrics.Value("vllm:num_requests_running"));
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return most;
            }
        });

        var json = Json(new Dictionary<string, object?>
        {
            ["prompt"] = StoryPrompt,
            ["max_tokens"] = MaxTokens,
            ["logit_bias"] = NoEos,
            ["stream"] = true,
            ["stream_options"] = new Dictionary<string, object?> { ["include_usage"] = true },
        });
        var streams = await Task.WhenAll(Enumerable.Range(0, Streams).Select(_ => StreamAsync(client, json))).WaitAsync(RequestTimeout);
        await stop.CancelAsync();
        var mostRunning = await watcher.WaitAsync(RequestTimeout);

        var completionTokens = 0;
        foreach (var events in streams)
        {
            Assert.Equal("[DONE]", events[^1]);
            using var usage = JsonDocument.Parse(events[^2]);
            completionTokens += usage.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32();
        }

        Assert.Equal(Streams * MaxTokens, completionTokens);
        var after = await ModelServerMetrics.ScrapeAsync(metricsClient);
        Assert.Equal(Streams * MaxTokens, after.Value("vllm:generation_tokens_total") - before.Value("vllm:generation_tokens_total"));
        Assert.Equal(Streams, after.Value("vllm:request_success_total", ("finished_reason", "length")) - before.Value("vllm:request_success_total", ("finished_reason", "length")));
        Assert.True(mostRunning > 1, $"at most {mostRunning} requests ran at once");
    }

    [Stories260KFact]
    public async Task RepeatedLongPrompt_ReusesItsCachedPrefix()
    {
        using var client = fixture.CreateModelServerClient(0);
        var prompt = "Once upon a time, in a small house by the sea, there lived a girl named " + Guid.NewGuid().ToString("N")
            + ". Every day she walked to the beach with her dog and her red ball, and they played until the sun went down.";
        var json = Json(new Dictionary<string, object?> { ["prompt"] = prompt, ["max_tokens"] = 2, ["temperature"] = 0 });
        using var metricsClient = fixture.CreateModelServerClient(0);
        var before = await ModelServerMetrics.ScrapeAsync(metricsClient);

        using var first = await CompleteAsync(client, json);
        using var second = await CompleteAsync(client, json);

        var promptTokens = second.RootElement.GetProperty("usage").GetProperty("prompt_tokens").GetInt32();
        var firstCached = CachedTokens(first);
        var secondCached = CachedTokens(second);
        Assert.True(promptTokens > 50, $"{promptTokens} prompt tokens");
        Assert.True(firstCached < promptTokens / 2, $"first request: {firstCached} of {promptTokens} cached");
        // Everything but the last prompt token, which is computed again for its logits.
        Assert.Equal(promptTokens - 1, secondCached);
        Assert.Equal(first.RootElement.GetProperty("choices")[0].GetProperty("text").GetString(), second.RootElement.GetProperty("choices")[0].GetProperty("text").GetString());

        var after = await ModelServerMetrics.ScrapeAsync(metricsClient);
        Assert.Equal(2 * promptTokens, after.Value("vllm:prefix_cache_queries_total") - before.Value("vllm:prefix_cache_queries_total"));
        Assert.Equal(firstCached + secondCached, after.Value("vllm:prefix_cache_hits_total") - before.Value("vllm:prefix_cache_hits_total"));
    }

    [Stories260KFact]
    public async Task StreamedCachedTokens_AreInTheUsageChunk()
    {
        using var client = fixture.CreateModelServerClient(0);
        var json = Json(new Dictionary<string, object?>
        {
            ["prompt"] = "The little dog ran to the park to play with his friends " + Guid.NewGuid().ToString("N"),
            ["max_tokens"] = 2,
            ["stream"] = true,
            ["stream_options"] = new Dictionary<string, object?> { ["include_usage"] = true },
        });

        await StreamAsync(client, json);
        var events = await StreamAsync(client, json);

        using var usage = JsonDocument.Parse(events[^2]);
        var details = usage.RootElement.GetProperty("usage");
        Assert.Equal(details.GetProperty("prompt_tokens").GetInt32() - 1, details.GetProperty("prompt_tokens_details").GetProperty("cached_tokens").GetInt32());
    }

    [Stories260KFact]
    public async Task ClientDisconnect_FreesTheSequenceWithinAStep()
    {
        using var client = fixture.CreateModelServerClient(0);
        using var metricsClient = fixture.CreateModelServerClient(0);

        // Sixteen sequences of a whole context each: far more work than the moment it takes to hang up — unless the
        // test process is starved by parallel tests and hangs up after the server finished them all (seen on 2 busy
        // cores: ~0.5 s of work); then nothing was tested, and it tries again.
        const int Choices = 16;
        var json = Json(new Dictionary<string, object?>
        {
            ["prompt"] = StoryPrompt,
            ["max_tokens"] = 500,
            ["n"] = Choices,
            ["logit_bias"] = NoEos,
            ["stream"] = true,
        });
        for (int attempt = 1; ; attempt++)
        {
            var before = await ModelServerMetrics.ScrapeAsync(metricsClient);
            Assert.Equal(0, before.Value("vllm:num_requests_running"));
            using (var cancellation = new CancellationTokenSource())
            {
                using var response = await PostAsync(client, CompletionsUri, json, completion: HttpCompletionOption.ResponseHeadersRead, cancellationToken: cancellation.Token);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellation.Token).WaitAsync(RequestTimeout));
                var first = await reader.ReadLineAsync(cancellation.Token).AsTask().WaitAsync(RequestTimeout);
                Assert.StartsWith("data: {", first, StringComparison.Ordinal);

                // Hang up mid-stream.
                await cancellation.CancelAsync();
            }

            var stopwatch = Stopwatch.StartNew();
            ModelServerMetrics after;
            double Finished(ModelServerMetrics m, string reason) => m.Value("vllm:request_success_total", ("finished_reason", reason));
            while (true)
            {
                after = await ModelServerMetrics.ScrapeAsync(metricsClient);

                // The running gauge and the finish counters are separate instruments: wait for both to settle.
                var finished = new[] { "abort", "length", "stop" }.Sum(reason => Finished(after, reason) - Finished(before, reason));
                if (after.Value("vllm:num_requests_running") == 0 && finished >= Choices)
                {
                    break;
                }

                Assert.True(stopwatch.Elapsed < s_settleTimeout, $"the request still runs ({finished} of {Choices} choices counted) {s_settleTimeout} after the client went away");
                await Task.Delay(20);
            }

            var aborted = Finished(after, "abort") - Finished(before, "abort");
            var generated = after.Value("vllm:generation_tokens_total") - before.Value("vllm:generation_tokens_total");
            if (aborted == 0 && generated >= Choices * 500 && attempt < 3)
            {
                continue;
            }

            Assert.Equal(Choices, aborted);
            Assert.True(generated < Choices * 500, $"{generated} tokens generated: the sequences ran to the end");
            Assert.Equal(0, after.Value("vllm:num_requests_waiting"));
            break;
        }

        // The server serves on.
        using var next = await CompleteAsync(client, Json(new Dictionary<string, object?> { ["prompt"] = StoryPrompt, ["max_tokens"] = 3 }));
        Assert.Equal(3, next.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
    }

    private static int CachedTokens(JsonDocument completion) =>
        completion.RootElement.GetProperty("usage").GetProperty("prompt_tokens_details").GetProperty("cached_tokens").GetInt32();
}
