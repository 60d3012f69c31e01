using System.Net;
using System.Text.Json;
using LlmAspire.Gateway.Auth;
using LlmAspire.Tests.Gateway.Caching;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using static LlmAspire.Tests.Gateway.Caching.ResponseCacheBehaviourTests;

namespace LlmAspire.Tests.Gateway.Auth;

/// <summary>API keys: hashing and parsing, and end to end through an in-process gateway in front of a fake model server.</summary>
public sealed class ApiKeyAuthTests
{
    private const string Key = "sk-llmaspire-test-key";

    [Fact]
    public void Hash_IsWhatSha256sumPrints()
    {
        // printf %s abc | sha256sum
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData("abc"u8)), ApiKeyHasher.Hash("abc"));
        Assert.Equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", ApiKeyHasher.Hash("abc"));
    }

    [Theory]
    [InlineData("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", true)]
    [InlineData(" BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD ", true)]
    [InlineData("ba7816bf", false)]
    [InlineData("sk-not-a-hash-but-sixty-four-characters-long-xxxxxxxxxxxxxxxxxxxx", false)]
    [InlineData("", false)]
    public void IsHash_AcceptsOnly64HexDigits(string text, bool expected) =>
        Assert.Equal(expected, ApiKeyHasher.IsHash(text));

    [Fact]
    public void Validator_AcceptsHashedAndPlainKeys_AndIdentifiesThemByShortHash()
    {
        var validator = new ApiKeyValidator(Options.Create(new AuthOptions
        {
            KeyHashes = [ApiKeyHasher.Hash("first").ToUpperInvariant()],
            Keys = ["second", ""],
        }));

        Assert.False(validator.IsOpen);
        Assert.Equal(2, validator.KeyCount);
        Assert.True(validator.TryValidate("first", out var first));
        Assert.Equal(ApiKeyHasher.Hash("first")[..16], first.Id);
        Assert.True(validator.TryValidate("second", out var second));
        Assert.NotEqual(first.Id, second.Id);
        Assert.False(validator.TryValidate("third", out var third));
        Assert.Same(ApiKeyIdentity.Anonymous, third);
        Assert.True(new ApiKeyValidator(Options.Create(new AuthOptions())).IsOpen);
    }

    [Theory]
    [InlineData("Authorization", "Bearer sk-1", "sk-1")]
    [InlineData("Authorization", "bearer   sk-1  ", "sk-1")]
    [InlineData("Authorization", "Basic c2stMQ==", null)]
    [InlineData("Authorization", "Bearer ", null)]
    [InlineData("api-key", "sk-2", "sk-2")]
    public void ReadPresentedKey_ReadsBearerOrApiKey(string header, string value, string? expected)
    {
        var context = new DefaultHttpContext();
        context.Request.Headers[header] = value;
        Assert.Equal(expected, ApiKeyValidator.ReadPresentedKey(context.Request));
    }

    [Fact]
    public void Options_NotAHash_FailValidation() =>
        Assert.False(AuthOptions.IsValid(new AuthOptions { KeyHashes = ["sk-plain-key"] }));

    [Fact]
    public async Task Request_WithoutKey_Gets401InTheOpenAIShape()
    {
        await using var backend = await FakeModelServer.StartAsync();
        await using var gateway = await StartAsync(backend);
        using var client = gateway.CreateClient();

        using var response = await client.PostAsync(new Uri("/v1/completions", UriKind.Relative), FakeModelServer.Body("hello"));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        using var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var detail = error.RootElement.GetProperty("error");
        Assert.Contains("didn't provide an API key", detail.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal("invalid_request_error", detail.GetProperty("type").GetString());
        Assert.Equal(JsonValueKind.Null, detail.GetProperty("param").ValueKind);
        Assert.Equal(0, backend.Completions);
    }

    [Fact]
    public async Task MalformedBody_WithoutKey_Gets401_NotTheBodysError()
    {
        await using var backend = await FakeModelServer.StartAsync();
        await using var gateway = await StartAsync(backend);
        using var client = gateway.CreateClient();
        using var content = new ByteArrayContent([.. "{\"prompt\": \""u8, 0xED, 0xA0, 0x80, .. "\"}"u8]);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");

        using var response = await client.PostAsync(new Uri("/v1/completions", UriKind.Relative), content);

        // Keys are checked before the body is read: a caller without one learns nothing about the body's checks.
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(0, backend.Completions);
    }

    [Fact]
    public async Task Request_WithWrongKey_Gets401InvalidApiKey()
    {
        await using var backend = await FakeModelServer.StartAsync();
        await using var gateway = await StartAsync(backend);
        using var client = gateway.CreateClient("sk-wrong");

        using var response = await client.PostAsync(new Uri("/v1/completions", UriKind.Relative), FakeModelServer.Body("hello"));
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var error = JsonDocument.Parse(body);
        var detail = error.RootElement.GetProperty("error");
        Assert.StartsWith("Incorrect API key provided", detail.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal("invalid_request_error", detail.GetProperty("type").GetString());
        Assert.Equal("invalid_api_key", detail.GetProperty("code").GetString());
        Assert.DoesNotContain("sk-wrong", body, StringComparison.Ordinal);
        Assert.Equal(0, backend.Completions);
    }

    [Fact]
    public async Task Request_WithTheKey_IsForwarded_AsBearerOrApiKey()
    {
        await using var backend = await FakeModelServer.StartAsync();
        await using var gateway = await StartAsync(backend);
        using var bearer = gateway.CreateClient(Key);
        using var azure = gateway.CreateClient();
        azure.DefaultRequestHeaders.Add("api-key", Key);

        await PostAsync(bearer, FakeModelServer.Body("bearer"));
        await PostAsync(azure, FakeModelServer.Body("azure"));

        Assert.Equal(2, backend.Completions);
    }

    [Fact]
    public async Task Health_WithKeysConfigured_StaysOpen()
    {
        await using var backend = await FakeModelServer.StartAsync();
        await using var gateway = await StartAsync(backend);
        using var client = gateway.CreateClient();

        using var health = await client.GetAsync(new Uri("/health", UriKind.Relative));
        using var alive = await client.GetAsync(new Uri("/alive", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal(HttpStatusCode.OK, alive.StatusCode);
    }

    [Fact]
    public async Task OpenMode_NoKeyConfigured_ForwardsWithoutAKey()
    {
        await using var backend = await FakeModelServer.StartAsync();
        await using var gateway = await TestGateway.StartAsync([backend.Url], redis: null);
        using var client = gateway.CreateClient();

        var (response, _) = await PostAsync(client, FakeModelServer.Body("open"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(gateway.Services.GetService(typeof(ApiKeyValidator)) is ApiKeyValidator { IsOpen: true });
    }

    private static Task<TestGateway> StartAsync(FakeModelServer backend) =>
        TestGateway.StartAsync([backend.Url], redis: null, new Dictionary<string, string?> { ["Gateway:Auth:KeyHashes:0"] = ApiKeyHasher.Hash(Key) });
}
