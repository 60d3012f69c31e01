using System.Diagnostics;
using System.Text.Json;
using static LlmAspire.Tests.ModelServer.ModelServerHttp;

namespace LlmAspire.Tests.ModelServer;

/// <summary>
/// <c>ModelServer:Engine=simulated</c> as an operator sets it: the model server process built by this run serves the
/// OpenAI surface and vLLM's metrics without a model, and refuses a bad latency setting at start-up, naming it.
/// </summary>
public sealed class SimulatedServerTests(SimulatedServerFixture server) : IClassFixture<SimulatedServerFixture>
{
    [Fact]
    public async Task Models_ListsTheConfiguredId()
    {
        using var models = await JsonDocument.ParseAsync(await server.Client.GetStreamAsync(new Uri("/v1/models", UriKind.Relative)).WaitAsync(RequestTimeout));

        var model = Assert.Single(models.RootElement.GetProperty("data").EnumerateArray());
        Assert.Equal(SimulatedServerFixture.ModelId, model.GetProperty("id").GetString());
    }

    [Fact]
    public async Task Completion_SamePromptTwice_SameTextAndTheCachedPrefixSkipsItsPrefillTime()
    {
        // 20 ms per uncached prompt token: the first request sleeps seconds in prefill, the second almost nothing.
        string prompt = "The fleet benchmark routes requests by prefix: " + string.Concat(Enumerable.Range(0, 30).Select(i => $"item {i}, "));
        string body = Json(new Dictionary<string, object?> { ["model"] = SimulatedServerFixture.ModelId, ["prompt"] = prompt, ["max_tokens"] = 8 });
        var before = await ModelServerMetrics.ScrapeAsync(server.Client);

        var watch = Stopwatch.StartNew();
        using var first = await CompleteAsync(server.Client, body);
        var firstTime = watch.Elapsed;
        watch.Restart();
        using var second = await CompleteAsync(server.Client, body);
        var secondTime = watch.Elapsed;
        var after = await ModelServerMetrics.ScrapeAsync(server.Client);

        var choice = first.RootElement.GetProperty("choices")[0];
        int promptTokens = first.RootElement.GetProperty("usage").GetProperty("prompt_tokens").GetInt32();
        Assert.Equal("length", choice.GetProperty("finish_reason").GetString());
        Assert.Equal(8, first.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        Assert.False(string.IsNullOrWhiteSpace(choice.GetProperty("text").GetString()));
        Assert.Equal(choice.GetProperty("text").GetString(), second.RootElement.GetProperty("choices")[0].GetProperty("text").GetString());
        Assert.Equal(promptTokens - 1, second.RootElement.GetProperty("usage").GetProperty("prompt_tokens_details").GetProperty("cached_tokens").GetInt32());
        // The first request may reuse a token or two that earlier tests' prompts began with; the second all but its last.
        int firstCached = first.RootElement.GetProperty("usage").TryGetProperty("prompt_tokens_details", out var details) ? details.GetProperty("cached_tokens").GetInt32() : 0;
        Assert.InRange(firstCached, 0, 3);
        Assert.Equal(firstCached + promptTokens - 1, after.ModelValue(SimulatedServerFixture.ModelId, "vllm:prefix_cache_hits_total") - before.ModelValue(SimulatedServerFixture.ModelId, "vllm:prefix_cache_hits_total"));

        // A lower bound the sleeps guarantee, and a margin of seconds for the cached one (no tight timing under load).
        Assert.InRange(promptTokens, 150, 400);
        Assert.True(firstTime >= TimeSpan.FromMilliseconds(((promptTokens - firstCached) * 20) - 50), $"first {firstTime} for {promptTokens} prompt tokens");
        Assert.True(secondTime < firstTime - TimeSpan.FromSeconds(2), $"cached {secondTime} vs uncached {firstTime}");
    }

    [Fact]
    public async Task ChatCompletion_Streamed_ChunksOfTextEndingWithLengthAndDone()
    {
        string body = Json(new Dictionary<string, object?>
        {
            ["model"] = SimulatedServerFixture.ModelId,
            ["messages"] = new[] { new Dictionary<string, string> { ["role"] = "user", ["content"] = "Hi" } },
            ["max_tokens"] = 16,
            ["stream"] = true,
        });

        var events = await StreamAsync(server.Client, ChatCompletionsUri, body);

        Assert.Equal("[DONE]", events[^1]);
        var chunks = events.SkipLast(1).Select(e => JsonDocument.Parse(e)).ToList();
        string text = string.Concat(chunks.Select(c => c.RootElement.GetProperty("choices")).Where(c => c.GetArrayLength() > 0)
            .Select(c => c[0].GetProperty("delta")).Where(d => d.TryGetProperty("content", out _)).Select(d => d.GetProperty("content").GetString()));
        Assert.False(string.IsNullOrWhiteSpace(text));
        Assert.Contains(chunks, c => c.RootElement.GetProperty("choices").GetArrayLength() > 0
            && c.RootElement.GetProperty("choices")[0].GetProperty("finish_reason").ValueKind == JsonValueKind.String
            && c.RootElement.GetProperty("choices")[0].GetProperty("finish_reason").GetString() == "length");
        chunks.ForEach(c => c.Dispose());
    }

    [Fact]
    public async Task Metrics_AfterARequest_VllmNamesCarryTheSimulatedModel()
    {
        using var _ = await CompleteAsync(server.Client, Json(new Dictionary<string, object?> { ["model"] = SimulatedServerFixture.ModelId, ["prompt"] = "Hello", ["max_tokens"] = 4 }));

        var metrics = await ModelServerMetrics.ScrapeAsync(server.Client);

        const string model = SimulatedServerFixture.ModelId;
        Assert.True(metrics.ModelValue(model, "vllm:generation_tokens_total") >= 4);
        Assert.True(metrics.ModelValue(model, "vllm:time_to_first_token_seconds_count") >= 1);
        Assert.True(metrics.ModelValue(model, "vllm:prefix_cache_queries_total") >= 1);
        Assert.InRange(metrics.ModelValue(model, "vllm:kv_cache_usage_perc"), 0, 1);
        Assert.True(metrics.Has("vllm:num_requests_running"));
    }

    [Theory]
    [InlineData("DecodeBaseMs", "-3", "ModelServer:Simulated:DecodeBaseMs must be a number of milliseconds between 0 and 60000; it is -3.")]
    [InlineData("KvBudgetTokens", "1000", "ModelServer:Simulated:KvBudgetTokens must hold at least one full sequence (ModelServer:Simulated:ContextLength, 8192); it is 1000.")]
    public async Task Start_InvalidSimulatedSetting_ExitsNamingIt(string name, string value, string message)
    {
        using var process = ModelServerProcess.Start(null, ("ModelServer__Engine", "simulated"), ($"ModelServer__Simulated__{name}", value));

        var (exitCode, output) = await process.WaitForExitAsync(TimeSpan.FromMinutes(2));

        Assert.NotEqual(0, exitCode);
        Assert.Contains(message, output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_UnknownEngine_ExitsNamingTheChoices()
    {
        using var process = ModelServerProcess.Start(null, ("ModelServer__Engine", "tensorrt"));

        var (exitCode, output) = await process.WaitForExitAsync(TimeSpan.FromMinutes(2));

        Assert.NotEqual(0, exitCode);
        Assert.Contains("ModelServer:Engine must be onnx or simulated.", output, StringComparison.Ordinal);
    }
}

/// <summary>One simulated model server process for the class: id <see cref="ModelId"/>, 20 ms per uncached prompt token.</summary>
public sealed class SimulatedServerFixture : IAsyncLifetime
{
    /// <summary>The configured model id (not the default, to show it is taken from configuration).</summary>
    public const string ModelId = "sim-test-8b";

    private ModelServerProcess? _process;
    private HttpClient? _client;

    public HttpClient Client => _client ?? throw new InvalidOperationException("The server has not started.");

    public async Task InitializeAsync()
    {
        _process = ModelServerProcess.Start(
            null,
            ("ModelServer__Engine", "simulated"),
            ("ModelServer__Simulated__ModelId", ModelId),
            ("ModelServer__Simulated__PrefillMsPerToken", "20"));
        _client = await _process.WaitUntilHealthyAsync(TimeSpan.FromMinutes(2));
    }

    public Task DisposeAsync()
    {
        _client?.Dispose();
        _process?.Dispose();
        return Task.CompletedTask;
    }
}
