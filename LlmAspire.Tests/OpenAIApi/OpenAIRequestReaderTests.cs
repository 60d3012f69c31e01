using System.Runtime.InteropServices;
using System.Text;
using LlmAspire.OpenAIApi;
using LlmAspire.OpenAIApi.Requests;
using Microsoft.AspNetCore.Http;

namespace LlmAspire.Tests.OpenAIApi;

/// <summary>Reading a request body: content type, size (declared or streamed), then the body checks and the record.</summary>
public sealed class OpenAIRequestReaderTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(10);

    [Theory]
    [InlineData(null)]
    [InlineData("text/plain")]
    [InlineData("application/x-www-form-urlencoded")]
    [InlineData("application/json; charset=\"")]
    public async Task ReadBodyAsync_NotJson_Is415(string? contentType)
    {
        var read = await OpenAIRequestReader.ReadBodyAsync(Request("{}"u8.ToArray(), contentType), 1024, CancellationToken.None).WaitAsync(s_timeout);

        Assert.Equal(StatusCodes.Status415UnsupportedMediaType, read.StatusCode);
        Assert.Equal("unsupported_media_type", read.Error?.Code);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ReadBodyAsync_OneByteOverTheLimit_Is413WhetherDeclaredOrNot(bool declared)
    {
        var request = Request(new byte[1025], "application/json");
        request.ContentLength = declared ? 1025 : null;

        var read = await OpenAIRequestReader.ReadBodyAsync(request, 1024, CancellationToken.None).WaitAsync(s_timeout);

        Assert.Equal(StatusCodes.Status413PayloadTooLarge, read.StatusCode);
        Assert.Equal("request_too_large", read.Error?.Code);
    }

    [Fact]
    public async Task ReadBodyAsync_AtTheLimit_ReturnsTheBytesUnchecked()
    {
        var body = new byte[1024];
        body[0] = 0xFF;

        var read = await OpenAIRequestReader.ReadBodyAsync(Request(body, "application/vnd.api+json"), 1024, CancellationToken.None).WaitAsync(s_timeout);

        Assert.Null(read.Error);
        Assert.Equal(body, read.Body.ToArray());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(100)]
    [InlineData(20_000)]
    public async Task ReadBodyAsync_DeclaredLength_HoldsTheBodyInAnArrayOfThatSizeAndOneByte(int size)
    {
        // The gateway keeps the body for the whole request (to replay it on a retry): 8 KiB for a 100-byte body
        // showed up as most of what each request in flight left behind in the soak.
        var body = Enumerable.Range(0, size).Select(i => (byte)('a' + (i % 26))).ToArray();

        var read = await OpenAIRequestReader.ReadBodyAsync(Request(body, "application/json"), 1 << 20, CancellationToken.None).WaitAsync(s_timeout);

        Assert.Null(read.Error);
        Assert.Equal(body, read.Body.ToArray());
        Assert.True(MemoryMarshal.TryGetArray(read.Body, out var segment));
        Assert.InRange(segment.Array!.Length, size, size + 1);
    }

    [Theory]
    [InlineData(10, 30)]
    [InlineData(100, 20_000)]
    public async Task ReadBodyAsync_BodyLongerThanDeclared_IsReadWhole(int declared, int size)
    {
        var body = Enumerable.Range(0, size).Select(i => (byte)('a' + (i % 26))).ToArray();
        var request = Request(body, "application/json");
        request.ContentLength = declared;

        var read = await OpenAIRequestReader.ReadBodyAsync(request, 1 << 20, CancellationToken.None).WaitAsync(s_timeout);

        Assert.Null(read.Error);
        Assert.Equal(body, read.Body.ToArray());
    }

    [Fact]
    public async Task ReadAsync_InvalidUtf8_Is400InvalidEncoding()
    {
        var read = await OpenAIRequestReader.ReadAsync(
            Request([.. """{"prompt":"a"""u8, 0xED, 0xA0, 0x80, .. "\"}"u8], "application/json"),
            OpenAIJsonContext.Default.CompletionRequest,
            1024,
            CancellationToken.None).WaitAsync(s_timeout);

        Assert.Equal(StatusCodes.Status400BadRequest, read.StatusCode);
        Assert.Equal("invalid_encoding", read.Error?.Code);
    }

    [Fact]
    public async Task ReadAsync_ByteOrderMarkThenObject_ReadsTheRequest()
    {
        var read = await OpenAIRequestReader.ReadAsync(
            Request([0xEF, 0xBB, 0xBF, .. """{"prompt":"a","max_tokens":3}"""u8], "application/json"),
            OpenAIJsonContext.Default.CompletionRequest,
            1024,
            CancellationToken.None).WaitAsync(s_timeout);

        Assert.Null(read.Error);
        Assert.Equal(3, read.Request!.MaxTokens);
    }

    [Theory]
    [InlineData("""{"max_tokens":99999999999999999999}""", "max_tokens")]
    [InlineData("""{"n":1e308}""", "n")]
    [InlineData("""{"stream":"yes"}""", "stream")]
    [InlineData("""{"stream_options":{"include_usage":5}}""", "stream_options.include_usage")]
    public void Parse_WrongType_Is400NamingTheField(string json, string param)
    {
        var read = OpenAIRequestReader.Parse(Encoding.UTF8.GetBytes(json), OpenAIJsonContext.Default.CompletionRequest);

        Assert.Equal(StatusCodes.Status400BadRequest, read.StatusCode);
        Assert.Equal(param, read.Error?.Param);
    }

    private static HttpRequest Request(byte[] body, string? contentType)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = HttpMethods.Post;
        context.Request.ContentType = contentType;
        context.Request.ContentLength = body.Length;
        context.Request.Body = new MemoryStream(body);
        return context.Request;
    }
}
