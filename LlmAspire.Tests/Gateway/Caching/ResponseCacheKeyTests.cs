using System.Buffers;
using System.Text;
using LlmAspire.Gateway.Caching;
using LlmAspire.Gateway.Requests;

namespace LlmAspire.Tests.Gateway.Caching;

/// <summary>Keys, canonical JSON, Cache-Control and the stored form.</summary>
public sealed class ResponseCacheKeyTests
{
    [Fact]
    public void CanonicalJson_SortsMembersAndNormalizesNumbers()
    {
        Assert.Equal(
            """{"a":[1,{"x":0.5,"y":0}],"b":"\u00E9\n","c":null,"d":true}""",
            CanonicalJson.ToCanonicalString("""{ "d": true, "c": null, "b": "\u00e9\n", "a": [1.0, {"y": 0e0, "x": 0.50}] }"""));
    }

    [Theory]
    [InlineData("1e400")]
    [InlineData("-1e400")]
    [InlineData("1E+999")]
    public void CanonicalJson_NumberBeyondADouble_KeepsItsTextAndStaysJson(string number)
    {
        var canonical = CanonicalJson.ToCanonicalString($$"""{"top_p":{{number}}}""");

        Assert.Equal($$"""{"top_p":{{number}}}""", canonical);
        using var parsed = System.Text.Json.JsonDocument.Parse(canonical);
    }

    [Fact]
    public void Key_NumbersBeyondADouble_StayDistinct() =>
        Assert.NotEqual(
            Key("""{"model":"m","prompt":"p","temperature":0,"top_p":1e400}"""),
            Key("""{"model":"m","prompt":"p","temperature":0,"top_p":1e401}"""));

    [Fact]
    public void Key_IgnoresMemberOrderAndSpacing()
    {
        Assert.Equal(
            Key("""{"model":"m","prompt":"p","temperature":0,"max_tokens":8}"""),
            Key("""{ "max_tokens": 8, "temperature": 0.0, "prompt": "p", "model": "m" }"""));
    }

    [Theory]
    [InlineData("""{"model":"m","prompt":"p","temperature":0,"max_tokens":9}""")]
    [InlineData("""{"model":"m","prompt":"q","temperature":0,"max_tokens":8}""")]
    [InlineData("""{"model":"n","prompt":"p","temperature":0,"max_tokens":8}""")]
    [InlineData("""{"model":"m","prompt":"p","temperature":0,"max_tokens":8,"top_p":0.5}""")]
    [InlineData("""{"model":"m","prompt":"p","temperature":0,"max_tokens":8,"n":2}""")]
    [InlineData("""{"model":"m","prompt":"p","temperature":0,"max_tokens":8,"stream":true}""")]
    [InlineData("""{"model":"m","prompt":"p","temperature":0,"max_tokens":8,"stop":["."]}""")]
    public void Key_ChangesWithEveryParameter(string other) =>
        Assert.NotEqual(Key("""{"model":"m","prompt":"p","temperature":0,"max_tokens":8}"""), Key(other));

    [Theory]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"p"}],"temperature":0,"tools":[{"type":"function","function":{"name":"g"}}]}""")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"p"}],"temperature":0,"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}]}""")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"p"}],"temperature":0,"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":"required"}""")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"p"}],"temperature":0,"tools":[{"type":"function","function":{"name":"f"}}],"parallel_tool_calls":false}""")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"p"}],"temperature":0,"tools":[{"type":"function","function":{"name":"f"}}],"response_format":{"type":"json_object"}}""")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"p"}],"temperature":0}""")]
    public void Key_ChangesWithToolsAndOutputFormat(string other)
    {
        // Every field that changes what the model may answer — tools, tool_choice, parallel_tool_calls, response_format — is in the key.
        const string Tools = """{"model":"m","messages":[{"role":"user","content":"p"}],"temperature":0,"tools":[{"type":"function","function":{"name":"f"}}]}""";
        Assert.NotEqual(
            ResponseCacheKey.Create(CompletionRequestInfo.TryParse("/v1/chat/completions", Encoding.UTF8.GetBytes(Tools))!, "k", "r"),
            ResponseCacheKey.Create(CompletionRequestInfo.TryParse("/v1/chat/completions", Encoding.UTF8.GetBytes(other))!, "k", "r"));
    }

    [Fact]
    public void Key_IsNamespacedByCallerAndRevisionAndPath()
    {
        const string Body = """{"model":"m","prompt":"p","temperature":0}""";
        var key = Key(Body);

        Assert.StartsWith(ResponseCacheKey.Prefix + "anonymous:", key, StringComparison.Ordinal);
        Assert.NotEqual(key, Key(Body, caller: "0123456789abcdef"));
        Assert.NotEqual(key, Key(Body, revision: "2"));
        Assert.NotEqual(key, Key(Body, path: "/v1/chat/completions"));
        Assert.Equal(ResponseCacheKey.Prefix.Length + "anonymous:".Length + 64, key.Length);
    }

    [Theory]
    [InlineData("no-cache", null, true, false)]
    [InlineData("no-store", null, false, true)]
    [InlineData("max-age=0, No-Store , no-cache", null, true, true)]
    [InlineData(null, "no-cache", true, false)]
    [InlineData("max-age=60", null, false, false)]
    public void CacheControl_ReadsTheRequestsDirectives(string? cacheControl, string? pragma, bool noCache, bool noStore) =>
        Assert.Equal(new CacheControlDirectives(noCache, noStore), CacheControlDirectives.Parse(cacheControl, pragma));

    [Fact]
    public void Serializer_RoundTripsAResponse()
    {
        var serializer = new CachedResponseSerializer();
        var original = new CachedResponse(200, "text/event-stream; charset=utf-8", Encoding.UTF8.GetBytes("data: {}\n\ndata: [DONE]\n\n"), DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_123));
        var buffer = new ArrayBufferWriter<byte>();

        serializer.Serialize(original, buffer);
        var copy = serializer.Deserialize(new ReadOnlySequence<byte>(buffer.WrittenMemory));

        Assert.Equal(original.StatusCode, copy.StatusCode);
        Assert.Equal(original.ContentType, copy.ContentType);
        Assert.Equal(original.CreatedAt, copy.CreatedAt);
        Assert.Equal(original.Body.ToArray(), copy.Body.ToArray());
        Assert.True(copy.IsEventStream);
        Assert.Throws<InvalidDataException>(() => serializer.Deserialize(new ReadOnlySequence<byte>(buffer.WrittenMemory[..^1])));
    }

    [Theory]
    [InlineData("data: {}\n\ndata: [DONE]\n\n", true)]
    [InlineData("data: {}\r\n\r\ndata: [DONE]\r\n\r\n", true)]
    [InlineData("data: {}\n\n", false)]
    [InlineData("data: {\"error\":{}}\n\n", false)]
    public void EndsWithDone_TellsACompleteStream(string events, bool expected) =>
        Assert.Equal(expected, CachedResponse.EndsWithDone(Encoding.UTF8.GetBytes(events)));

    private static string Key(string body, string caller = "anonymous", string revision = "1", string path = "/v1/completions") =>
        ResponseCacheKey.Create(CompletionRequestInfo.TryParse(path, Encoding.UTF8.GetBytes(body))!, caller, revision);
}
