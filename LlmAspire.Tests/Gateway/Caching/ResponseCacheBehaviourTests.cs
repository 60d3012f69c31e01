using System.Net;
using System.Text;

namespace LlmAspire.Tests.Gateway.Caching;

/// <summary>
/// The cache's rules, through an in-process gateway in front of a counting fake model server: what is stored,
/// what is not, stampede protection for JSON and streams, Cache-Control, and per-key namespaces.
/// </summary>
public sealed class ResponseCacheBehaviourTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Json_SameDeterministicRequestTwice_MissThenHitWithIdenticalBody()
    {
        await using var backend = await FakeModelServer.StartAsync();
        await using var gateway = await TestGateway.StartAsync([backend.Url], redis: null);
        using var client = gateway.CreateClient();

        var (first, firstBody) = await PostAsync(client, FakeModelServer.Body("twice"));
        var (second, secondBody) = await PostAsync(client, FakeModelServer.Body("twice"));

        Assert.Equal("MISS", CacheHeader(first));
        Assert.Equal("HIT", CacheHeader(second));
        Assert.Equal(firstBody, secondBody);
        Assert.Equal("application/json", second.Content.Headers.ContentType?.MediaType);
        Assert.Equal(1, backend.Completions);
    }

    [Fact]
    public async Task Json_SamplingWithoutSeed_IsNeverCached()
    {
        await using var backend = await FakeModelServer.StartAsync();
        await using var gateway = await TestGateway.StartAsync([backend.Url], redis: null);
        using var client = gateway.CreateClient();

        var (first, firstBody) = await PostAsync(client, FakeModelServer.Body("sampled", temperature: 0.8));
        var (second, secondBody) = await PostAsync(client, FakeModelServer.Body("sampled", temperature: 0.8));

        Assert.Equal("BYPASS", CacheHeader(first));
        Assert.Equal("BYPASS", CacheHeader(second));
        Assert.NotEqual(firstBody, secondBody);
        Assert.Equal(2, backend.Completions);
    }

    [Fact]
    public async Task Json_SamplingWithSeed_IsCached()
    {
        await using var backend = await FakeModelServer.StartAsync();
        await using var gateway = await TestGateway.StartAsync([backend.Url], redis: null);
        using var client = gateway.CreateClient();

        await PostAsync(client, FakeModelServer.Body("seeded", temperature: 0.8, seed: 7));
        var (hit, _) = await PostAsync(client, FakeModelServer.Body("seeded", temperature: 0.8, seed: 7));
        var (otherSeed, _) = await PostAsync(client, FakeModelServer.Body("seeded", temperature: 0.8, seed: 8));

        Assert.Equal("HIT", CacheHeader(hit));
        Assert.Equal("MISS", CacheHeader(otherSeed));
        Assert.Equal(2, backend.Completions);
    }

    [Fact]
    public async Task Json_ErrorAnswer_IsNotStored()
    {
        await using var backend = await FakeModelServer.StartAsync();
        await using var gateway = await TestGateway.StartAsync([backend.Url], redis: null);
        using var client = gateway.CreateClient();

        var (first, _) = await PostAsync(client, FakeModelServer.Body("fail"), HttpStatusCode.BadRequest);
        var (second, _) = await PostAsync(client, FakeModelServer.Body("fail"), HttpStatusCode.BadRequest);

        Assert.Equal("MISS", CacheHeader(first));
        Assert.Equal("MISS", CacheHeader(second));
        Assert.Equal(2, backend.Completions);
    }

    [Fact]
    public async Task Json_BodyOverMaxEntryBytes_PassesThroughUncached()
    {
        await using var backend = await FakeModelServer.StartAsync();
        await using var gateway = await TestGateway.StartAsync(
            [backend.Url],
            redis: null,
            new Dictionary<string, string?> { ["Gateway:Cache:MaxEntryBytes"] = "4096" });
        using var client = gateway.CreateClient();

        var (first, firstBody) = await PostAsync(client, FakeModelServer.Body("big"));
        var (second, _) = await PostAsync(client, FakeModelServer.Body("big"));

        Assert.True(firstBody.Length > FakeModelServer.BigBodyBytes);
        Assert.Equal("MISS", CacheHeader(first));
        Assert.Equal("MISS", CacheHeader(second));
        Assert.Equal(2, backend.Completions);
    }

    [Fact]
    public async Task Json_NoCache_SkipsTheLookupButStores()
    {
        await using var backend = await FakeModelServer.StartAsync();
        await using var gateway = await TestGateway.StartAsync([backend.Url], redis: null);
        using var client = gateway.CreateClient();

        await PostAsync(client, FakeModelServer.Body("no-cache"));
        var (fresh, freshBody) = await PostAsync(client, FakeModelServer.Body("no-cache"), cacheControl: "no-cache");
        var (hit, hitBody) = await PostAsync(client, FakeModelServer.Body("no-cache"));

        Assert.Equal("BYPASS", CacheHeader(fresh));
        Assert.Equal("HIT", CacheHeader(hit));
        Assert.Equal(freshBody, hitBody);
        Assert.Equal(2, backend.Completions);
    }

    [Fact]
    public async Task Json_NoStore_IsNotStoredButMayBeServed()
    {
        await using var backend = await FakeModelServer.StartAsync();
        await using var gateway = await TestGateway.StartAsync([backend.Url], redis: null);
        using var client = gateway.CreateClient();

        var (first, _) = await PostAsync(client, FakeModelServer.Body("no-store"), cacheControl: "no-store");
        var (second, _) = await PostAsync(client, FakeModelServer.Body("no-store"));
        var (third, _) = await PostAsync(client, FakeModelServer.Body("no-store"), cacheControl: "no-store");
        var (both, _) = await PostAsync(client, FakeModelServer.Body("no-store"), cacheControl: "no-cache, no-store");

        Assert.Equal("MISS", CacheHeader(first));
        Assert.Equal("MISS", CacheHeader(second));
        Assert.Equal("HIT", CacheHeader(third));
        Assert.Equal("BYPASS", CacheHeader(both));
        Assert.Equal(3, backend.Completions);
    }

    [Fact]
    public async Task Json_TwoApiKeys_DoNotShareEntries()
    {
        await using var backend = await FakeModelServer.StartAsync();
        await using var gateway = await TestGateway.StartAsync(
            [backend.Url],
            redis: null,
            new Dictionary<string, string?>
            {
                ["Gateway:Auth:KeyHashes:0"] = LlmAspire.Gateway.Auth.ApiKeyHasher.Hash("key-a"),
                ["Gateway:Auth:KeyHashes:1"] = LlmAspire.Gateway.Auth.ApiKeyHasher.Hash("key-b"),
            });
        using var clientA = gateway.CreateClient("key-a");
        using var clientB = gateway.CreateClient("key-b");

        var (a1, a1Body) = await PostAsync(clientA, FakeModelServer.Body("per key"));
        var (a2, _) = await PostAsync(clientA, FakeModelServer.Body("per key"));
        var (b1, b1Body) = await PostAsync(clientB, FakeModelServer.Body("per key"));

        Assert.Equal("MISS", CacheHeader(a1));
        Assert.Equal("HIT", CacheHeader(a2));
        Assert.Equal("MISS", CacheHeader(b1));
        Assert.NotEqual(a1Body, b1Body);
        Assert.Equal(2, backend.Completions);
    }

    [Fact]
    public async Task Json_ConcurrentIdenticalRequests_ReachTheModelServerOnce()
    {
        await using var backend = await FakeModelServer.StartAsync();
        backend.Hold = true;
        await using var gateway = await TestGateway.StartAsync([backend.Url], redis: null);
        using var client = gateway.CreateClient();

        var requests = Enumerable.Range(0, 8).Select(_ => PostAsync(client, FakeModelServer.Body("stampede"))).ToList();
        await backend.FirstRequest.WaitAsync(s_timeout);
        backend.Release();
        var responses = await Task.WhenAll(requests).WaitAsync(s_timeout);

        Assert.Equal(1, backend.Completions);
        Assert.Single(responses.Select(response => response.Body).Distinct());
        Assert.Equal(1, responses.Count(response => CacheHeader(response.Response) == "MISS"));
        Assert.Equal(7, responses.Count(response => CacheHeader(response.Response) == "HIT"));
        Assert.Equal(1, gateway.CacheResults("miss"));
        Assert.Equal(7, gateway.CacheResults("hit"));
    }

    [Fact]
    public async Task Stream_Miss_StreamsLiveThenIsReplayedWithTheSameEvents()
    {
        await using var backend = await FakeModelServer.StartAsync();
        backend.Hold = true;
        await using var gateway = await TestGateway.StartAsync([backend.Url], redis: null);
        using var client = gateway.CreateClient();

        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/v1/completions", UriKind.Relative)) { Content = FakeModelServer.Body("live", stream: true) };
        using var miss = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead).WaitAsync(s_timeout);
        Assert.Equal("MISS", CacheHeader(miss));
        var reader = new StreamReader(await miss.Content.ReadAsStreamAsync().WaitAsync(s_timeout));

        // The model server holds the rest back: the first event must already have reached the client.
        var firstLine = await reader.ReadLineAsync().WaitAsync(s_timeout);
        Assert.StartsWith("data: {", firstLine, StringComparison.Ordinal);
        backend.Release();
        var missBody = firstLine + "\n" + await reader.ReadToEndAsync().WaitAsync(s_timeout);

        var (hit, hitBody) = await PostAsync(client, FakeModelServer.Body("live", stream: true));
        Assert.Equal("HIT", CacheHeader(hit));
        Assert.Equal("text/event-stream", hit.Content.Headers.ContentType?.MediaType);
        Assert.Equal(missBody, hitBody);
        Assert.EndsWith("data: [DONE]\n\n", hitBody, StringComparison.Ordinal);
        Assert.Equal(1, backend.Completions);
    }

    [Fact]
    public async Task Stream_ConcurrentIdenticalRequests_FollowOneGeneration()
    {
        await using var backend = await FakeModelServer.StartAsync();
        backend.Hold = true;
        await using var gateway = await TestGateway.StartAsync([backend.Url], redis: null);
        using var client = gateway.CreateClient();

        var requests = Enumerable.Range(0, 5).Select(_ => PostAsync(client, FakeModelServer.Body("together", stream: true))).ToList();
        await backend.FirstRequest.WaitAsync(s_timeout);
        backend.Release();
        var responses = await Task.WhenAll(requests).WaitAsync(s_timeout);

        Assert.Equal(1, backend.Completions);
        Assert.Single(responses.Select(response => response.Body).Distinct());
        Assert.All(responses, response => Assert.EndsWith("data: [DONE]\n\n", response.Body, StringComparison.Ordinal));
        Assert.Equal(1, responses.Count(response => CacheHeader(response.Response) == "MISS"));
    }

    [Fact]
    public async Task Stream_SamplingWithoutSeed_IsNeverCached()
    {
        await using var backend = await FakeModelServer.StartAsync();
        await using var gateway = await TestGateway.StartAsync([backend.Url], redis: null);
        using var client = gateway.CreateClient();

        var (first, _) = await PostAsync(client, FakeModelServer.Body("sampled stream", stream: true, temperature: 1));
        var (second, _) = await PostAsync(client, FakeModelServer.Body("sampled stream", stream: true, temperature: 1));

        Assert.Equal("BYPASS", CacheHeader(first));
        Assert.Equal("BYPASS", CacheHeader(second));
        Assert.Equal(2, backend.Completions);
    }

    internal static string? CacheHeader(HttpResponseMessage response) =>
        response.Headers.TryGetValues("X-Cache", out var values) ? values.Single() : null;

    internal static async Task<(HttpResponseMessage Response, string Body)> PostAsync(
        HttpClient client, HttpContent content, HttpStatusCode expected = HttpStatusCode.OK, string? cacheControl = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/v1/completions", UriKind.Relative)) { Content = content };
        if (cacheControl is not null)
        {
            request.Headers.TryAddWithoutValidation("Cache-Control", cacheControl);
        }

        var response = await client.SendAsync(request).WaitAsync(s_timeout);
        var body = await response.Content.ReadAsStringAsync().WaitAsync(s_timeout);
        Assert.True(response.StatusCode == expected, $"{(int)response.StatusCode}: {body}");
        return (response, body);
    }

    internal static string Utf8(ReadOnlyMemory<byte> bytes) => Encoding.UTF8.GetString(bytes.Span);
}
