using System.Net;
using System.Text.Json;
using LlmAspire.Gateway.Auth;
using LlmAspire.Tests.Gateway.Caching;
using static LlmAspire.Tests.Gateway.Caching.ResponseCacheBehaviourTests;
using LlmAspire.Gateway.RateLimiting;

namespace LlmAspire.Tests.Gateway.RateLimiting;

/// <summary>
/// Per-key limits through in-process gateways over the test's own redis-server: 429 with OpenAI's headers, budgets
/// shared by two gateway instances, token reservations corrected by the response's usage.
/// </summary>
public sealed class RateLimitEndToEndTests : IAsyncLifetime
{
    private RedisServerProcess? _redis;
    private FakeModelServer? _backend;

    private RedisServerProcess Redis => _redis!;

    private FakeModelServer Backend => _backend!;

    public async Task InitializeAsync()
    {
        _redis = await RedisServerProcess.StartAsync();
        _backend = await FakeModelServer.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await Backend.DisposeAsync();
        await Redis.DisposeAsync();
    }

    [Fact]
    public async Task Requests_OverTheRpmLimit_Get429WithRetryAfterAndOpenAIHeaders()
    {
        var key = NewKey();
        await using var gateway = await StartAsync(key, requestsPerMinute: 3);
        using var client = gateway.CreateClient(key);

        var remaining = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var (ok, _) = await PostAsync(client, FakeModelServer.Body($"rpm {i}", temperature: 1));
            Assert.Equal("3", Header(ok, "x-ratelimit-limit-requests"));
            remaining.Add(Header(ok, "x-ratelimit-remaining-requests")!);
        }

        var (limited, body) = await PostAsync(client, FakeModelServer.Body("rpm 3", temperature: 1), HttpStatusCode.TooManyRequests);

        Assert.Equal(["2", "1", "0"], remaining);
        Assert.Equal("3", Header(limited, "x-ratelimit-limit-requests"));
        Assert.Equal("0", Header(limited, "x-ratelimit-remaining-requests"));
        Assert.EndsWith("s", Header(limited, "x-ratelimit-reset-requests"), StringComparison.Ordinal);
        Assert.NotNull(limited.Headers.RetryAfter?.Delta);
        Assert.InRange(limited.Headers.RetryAfter!.Delta!.Value, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(120));
        using var error = JsonDocument.Parse(body);
        Assert.Equal("rate_limit_exceeded", error.RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal("requests", error.RootElement.GetProperty("error").GetProperty("type").GetString());
        Assert.Equal(3, Backend.Completions);
    }

    [Fact]
    public async Task Limits_AreSharedByTwoGatewayInstancesThroughRedis()
    {
        var key = NewKey();
        await using var first = await StartAsync(key, requestsPerMinute: 4);
        await using var second = await StartAsync(key, requestsPerMinute: 4);
        using var firstClient = first.CreateClient(key);
        using var secondClient = second.CreateClient(key);

        await PostAsync(firstClient, FakeModelServer.Body("shared 0", temperature: 1));
        await PostAsync(secondClient, FakeModelServer.Body("shared 1", temperature: 1));
        await PostAsync(firstClient, FakeModelServer.Body("shared 2", temperature: 1));
        var (last, _) = await PostAsync(secondClient, FakeModelServer.Body("shared 3", temperature: 1));
        await PostAsync(firstClient, FakeModelServer.Body("shared 4", temperature: 1), HttpStatusCode.TooManyRequests);
        await PostAsync(secondClient, FakeModelServer.Body("shared 5", temperature: 1), HttpStatusCode.TooManyRequests);

        Assert.Equal("0", Header(last, "x-ratelimit-remaining-requests"));
        Assert.IsType<RedisRateLimitStore>(first.Services.GetService(typeof(IRateLimitStore)));
    }

    [Fact]
    public async Task Limits_ArePerKey()
    {
        var (keyA, keyB) = (NewKey(), NewKey());
        await using var gateway = await StartAsync([keyA, keyB], requestsPerMinute: 1);
        using var clientA = gateway.CreateClient(keyA);
        using var clientB = gateway.CreateClient(keyB);

        await PostAsync(clientA, FakeModelServer.Body("a", temperature: 1));
        await PostAsync(clientA, FakeModelServer.Body("a", temperature: 1), HttpStatusCode.TooManyRequests);
        await PostAsync(clientB, FakeModelServer.Body("b", temperature: 1));
    }

    [Fact]
    public async Task Tokens_ReservationIsCorrectedByTheResponsesUsage()
    {
        // Each request reserves 2 (prompt) + 50 (max_tokens) = 52, and the fake server reports 8 used.
        // Without the correction the second request (52 + 52 > 100) would be refused.
        var key = NewKey();
        await using var gateway = await StartAsync(key, tokensPerMinute: 100);
        using var client = gateway.CreateClient(key);

        var (first, _) = await PostAsync(client, FakeModelServer.Body("tokens", temperature: 1, maxTokens: 50));
        var (second, _) = await PostAsync(client, FakeModelServer.Body("tokens", temperature: 1, maxTokens: 50));
        var (third, _) = await PostAsync(client, FakeModelServer.Body("tokens", temperature: 1, maxTokens: 10));

        Assert.Equal("100", Header(first, "x-ratelimit-limit-tokens"));
        Assert.Equal("48", Header(first, "x-ratelimit-remaining-tokens"));
        Assert.Equal("40", Header(second, "x-ratelimit-remaining-tokens"));
        Assert.Equal("72", Header(third, "x-ratelimit-remaining-tokens"));
    }

    [Fact]
    public async Task Tokens_StreamUsageChunkCorrectsTheReservation()
    {
        var key = NewKey();
        await using var gateway = await StartAsync(key, tokensPerMinute: 100);
        using var client = gateway.CreateClient(key);

        await PostAsync(client, FakeModelServer.Body("stream tokens", stream: true, temperature: 1, maxTokens: 60));
        var (second, _) = await PostAsync(client, FakeModelServer.Body("stream tokens", stream: true, temperature: 1, maxTokens: 60));

        // 7 used by the first stream + 64 reserved by the second.
        Assert.Equal("29", Header(second, "x-ratelimit-remaining-tokens"));
    }

    [Fact]
    public async Task Tokens_RequestLargerThanTheLimit_Gets429()
    {
        var key = NewKey();
        await using var gateway = await StartAsync(key, tokensPerMinute: 100);
        using var client = gateway.CreateClient(key);

        var (response, body) = await PostAsync(client, FakeModelServer.Body("huge", temperature: 1, maxTokens: 500), HttpStatusCode.TooManyRequests);

        Assert.Contains("Request too large", body, StringComparison.Ordinal);
        Assert.NotNull(response.Headers.RetryAfter);
        Assert.Equal(0, Backend.Completions);
    }

    private static string NewKey() => "sk-" + Guid.NewGuid().ToString("N");

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.Single() : null;

    private Task<TestGateway> StartAsync(string key, int requestsPerMinute = 0, int tokensPerMinute = 0) =>
        StartAsync([key], requestsPerMinute, tokensPerMinute);

    private Task<TestGateway> StartAsync(string[] keys, int requestsPerMinute = 0, int tokensPerMinute = 0)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Gateway:RateLimits:RequestsPerMinute"] = requestsPerMinute.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Gateway:RateLimits:TokensPerMinute"] = tokensPerMinute.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        for (var i = 0; i < keys.Length; i++)
        {
            settings[$"Gateway:Auth:KeyHashes:{i}"] = ApiKeyHasher.Hash(keys[i]);
        }

        return TestGateway.StartAsync([Backend.Url], Redis.ConnectionString, settings);
    }
}
