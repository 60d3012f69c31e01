using System.Net;
using System.Text;
using System.Text.Json;
using LlmAspire.Gateway.Caching;
using LlmAspire.Gateway.Requests;
using LlmAspire.OpenAIApi;
using LlmAspire.OpenAIApi.Errors;
using LlmAspire.OpenAIApi.Requests;
using LlmAspire.Tests.Gateway.Caching;
using Microsoft.AspNetCore.Http;

namespace LlmAspire.Tests.Gateway.Requests;

/// <summary>
/// The gateway reads a completion body once and refuses what the model server would refuse before it reads a field
/// (415, 413, and the 400 of <see cref="OpenAIJsonBody.Validate"/>), with the server's own error, forwarding nothing.
/// </summary>
public sealed class CompletionRequestMiddlewareTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);

    public static TheoryData<string, byte[]> InvalidBodies { get; } = new()
    {
        { "an encoded lone surrogate", [.. """{"prompt":"a"""u8, 0xED, 0xA0, 0x80, .. "\"}"u8] },
        { "an overlong NUL", [.. """{"prompt":"a"""u8, 0xC0, 0x80, .. "\"}"u8] },
        { "FF in a key", [.. """{"x"""u8, 0xFF, .. "\":1,\"prompt\":\"a\"}"u8] },
        { "an escaped lone surrogate", """{"prompt":"a\ud800b"}"""u8.ToArray() },
        { "an escaped lone surrogate in a message", """{"messages":[{"role":"user","content":"\udfff"}]}"""u8.ToArray() },
        { "100,000 levels", Encoding.UTF8.GetBytes(new string('[', 100_000)) },
        { "trailing garbage", """{"prompt":"a"}x"""u8.ToArray() },
        { "two byte-order marks", [0xEF, 0xBB, 0xBF, 0xEF, 0xBB, 0xBF, .. """{"prompt":"a"}"""u8] },
        { "no object", "[]"u8.ToArray() },
        { "nothing", [] },
    };

    [Theory]
    [MemberData(nameof(InvalidBodies))]
    public async Task Post_BodyFailingTheChecks_IsTheServersBadRequestAndNeverForwarded(string what, byte[] body)
    {
        await using var server = await FakeModelServer.StartAsync();
        await using var gateway = await TestGateway.StartAsync([server.Url], redis: null);
        using var client = gateway.CreateClient();

        using var response = await PostAsync(client, "/v1/completions", body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(
            OpenAIErrorResults.ToJson(OpenAIJsonBody.Validate(body)!),
            await response.Content.ReadAsStringAsync().WaitAsync(s_timeout));
        Assert.True(server.Completions == 0, what);
    }

    [Theory]
    [InlineData("/v1/chat/completions")]
    [InlineData("/V1/Completions")]
    [InlineData("/v1/completions/")]
    public async Task Post_InvalidUtf8OnEveryCompletionPath_IsRefusedAtTheGateway(string path)
    {
        await using var server = await FakeModelServer.StartAsync();
        await using var gateway = await TestGateway.StartAsync([server.Url], redis: null);
        using var client = gateway.CreateClient();

        using var response = await PostAsync(client, path, [.. """{"prompt":"a"""u8, 0xFF, .. "\"}"u8]);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("invalid_encoding", await ErrorCodeAsync(response));
    }

    [Fact]
    public async Task Post_NotJson_Is415NeverForwarded()
    {
        await using var server = await FakeModelServer.StartAsync();
        await using var gateway = await TestGateway.StartAsync([server.Url], redis: null);
        using var client = gateway.CreateClient();

        using var response = await PostAsync(client, "/v1/completions", """{"prompt":"a","temperature":0}"""u8.ToArray(), "text/plain");

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Equal("unsupported_media_type", await ErrorCodeAsync(response));
        Assert.Equal(0, server.Completions);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Post_OverTheGatewaysLimit_Is413NotABare400(bool chunked)
    {
        await using var server = await FakeModelServer.StartAsync();
        await using var gateway = await TestGateway.StartAsync([server.Url], redis: null);
        using var client = gateway.CreateClient();
        var body = Encoding.UTF8.GetBytes("{\"prompt\":\"" + new string(' ', CompletionRequestMiddleware.MaxBodyBytes) + "\"}");

        using var response = await PostAsync(client, "/v1/completions", body, chunked: chunked);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("request_too_large", await ErrorCodeAsync(response));
        Assert.Equal(0, server.Completions);
    }

    [Fact]
    public async Task Post_ByteOrderMark_IsForwardedAsReceivedAndCachedLikeTheSameBodyWithout()
    {
        await using var server = await FakeModelServer.StartAsync();
        await using var gateway = await TestGateway.StartAsync([server.Url], redis: null);
        using var client = gateway.CreateClient();
        var json = """{"model":"fake","prompt":"bom","max_tokens":8,"temperature":0}"""u8.ToArray();

        using var first = await PostAsync(client, "/v1/completions", [0xEF, 0xBB, 0xBF, .. json]);
        using var second = await PostAsync(client, "/v1/completions", json);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal("HIT", second.Headers.GetValues(ResponseCacheMiddleware.HeaderName).Single());
        Assert.Equal(1, server.Completions);
    }

    [Theory]
    [InlineData("/v1/completions", "/v1/completions")]
    [InlineData("/V1/COMPLETIONS", "/v1/completions")]
    [InlineData("/v1/completions/", "/v1/completions")]
    [InlineData("/v1/chat/completions", "/v1/chat/completions")]
    [InlineData("/v1/Chat/Completions/", "/v1/chat/completions")]
    [InlineData("/v1/responses", "/v1/responses")]
    [InlineData("/V1/Responses/", "/v1/responses")]
    [InlineData("/v1/responses/resp_1", null)]
    [InlineData("/v1/completions/x", null)]
    [InlineData("/v1//completions", null)]
    [InlineData("/v1/models", null)]
    [InlineData("/", null)]
    public void CompletionPath_MatchesAsRoutingDoes(string path, string? expected) =>
        Assert.Equal(expected, CompletionRequestMiddleware.CompletionPath(new PathString(path)));

    [Fact]
    public void TryParse_ResponsesRequest_ReadsInstructionsInputItemsAndMaxOutputTokens()
    {
        var info = CompletionRequestInfo.TryParse("/v1/responses", Encoding.UTF8.GetBytes("""
            {"model":"m","instructions":"Be brief.","max_output_tokens":12,"input":[
              {"role":"user","content":"Weather?"},
              {"type":"function_call","call_id":"c","name":"w","arguments":"{\"city\":\"Oslo\"}"},
              {"type":"function_call_output","call_id":"c","output":"rain"},
              {"role":"assistant","content":[{"type":"output_text","text":"Rain."}]}]}
            """))!;
        var text = CompletionRequestInfo.TryParse("/v1/responses", """{"input":"Hi"}"""u8.ToArray())!;

        Assert.Equal("m", info.Model);
        Assert.Equal(12, info.MaxTokens);
        Assert.Equal("system: Be brief.\nuser: Weather?\n{\"city\":\"Oslo\"}\nrain\nassistant: Rain.\n", info.PromptText);
        Assert.Equal("user: Hi", text.PromptText);
    }

    [Fact]
    public void TryParse_BodyFailingTheChecks_IsNull()
    {
        Assert.Null(CompletionRequestInfo.TryParse("/v1/completions", (byte[])[.. """{"prompt":"a"""u8, 0xED, 0xA0, 0x80, .. "\"}"u8]));
        Assert.Null(CompletionRequestInfo.TryParse("/v1/completions", """{"prompt":"\ud800"}"""u8.ToArray()));
    }

    [Fact]
    public void TryParse_ByteOrderMark_IsLeftOutOfTheBody()
    {
        var info = CompletionRequestInfo.TryParse("/v1/completions", (byte[])[0xEF, 0xBB, 0xBF, .. """{"prompt":"a","model":"m"}"""u8])!;

        Assert.Equal("m", info.Model);
        Assert.Equal("""{"prompt":"a","model":"m"}""", Encoding.UTF8.GetString(info.Body.Span));
    }

    [Theory]
    [InlineData("""{"max_tokens":1e308,"n":99999999999999999999}""")]
    [InlineData("""{"max_tokens":1.5,"n":-0.5}""")]
    [InlineData("""{"max_tokens":"8","n":null}""")]
    public void TryParse_IntegersThatAreNotInts_AreLeftForTheServerToRefuse(string json)
    {
        var info = CompletionRequestInfo.TryParse("/v1/completions", Encoding.UTF8.GetBytes(json))!;

        Assert.Null(info.MaxTokens);
        Assert.Equal(1, info.N);
    }

    private static async Task<HttpResponseMessage> PostAsync(HttpClient client, string path, byte[] body, string contentType = "application/json", bool chunked = false)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(path, UriKind.Relative)) { Content = new ByteArrayContent(body) };
        request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        request.Headers.TransferEncodingChunked = chunked;
        return await client.SendAsync(request).WaitAsync(s_timeout);
    }

    private static async Task<string?> ErrorCodeAsync(HttpResponseMessage response)
    {
        var error = JsonSerializer.Deserialize(await response.Content.ReadAsStringAsync().WaitAsync(s_timeout), OpenAIJsonContext.Default.OpenAIErrorResponse);
        return error?.Error.Code;
    }
}
