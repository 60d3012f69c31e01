using System.Text;
using System.Text.Json.Nodes;
using LlmAspire.Gateway.Responses;
using Microsoft.AspNetCore.Http;

namespace LlmAspire.Tests.Gateway.Responses;

/// <summary>How the gateway finds the response object in an answer it relays: JSON held back, events passed on.</summary>
public sealed class ResponseCaptureStreamTests
{
    private const string Completed = """{"id":"resp_1","object":"response","status":"completed","output":[]}""";

    [Fact]
    public async Task Events_InAwkwardPiecesWithCrLf_PassOnUnchanged_AndTheCompletedResponseIsHandedOverBeforeItsEventGoesOn()
    {
        var events = "event: response.created\r\ndata: {\"type\":\"response.created\",\"response\":{\"id\":\"resp_1\",\"object\":\"response\",\"status\":\"in_progress\"}}\r\n\r\n"
            + "event: response.output_text.delta\r\ndata: {\"type\":\"response.output_text.delta\",\"delta\":\"\\\"response\\\"\"}\r\n\r\n"
            + $"event: response.completed\r\ndata: {{\"type\":\"response.completed\",\"response\":{Completed}}}\r\n\r\n";
        using var sink = new MemoryStream();
        var handedOver = new List<(string Response, string SentSoFar)>();
        var capture = Capture(sink, "text/event-stream", 4096, handedOver);

        var bytes = Encoding.UTF8.GetBytes(events);
        for (var offset = 0; offset < bytes.Length; offset += 7)
        {
            await capture.WriteAsync(bytes.AsMemory(offset, Math.Min(7, bytes.Length - offset)));
        }

        await capture.FinishAsync(CancellationToken.None);

        Assert.Equal(events, Encoding.UTF8.GetString(sink.ToArray()));
        var (response, sentSoFar) = Assert.Single(handedOver);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(Completed), JsonNode.Parse(response)));
        // An SSE client acts on an event at its blank line, which had not gone on yet.
        Assert.StartsWith(sentSoFar, events, StringComparison.Ordinal);
        Assert.True(sentSoFar.Length <= events.LastIndexOf("\r\n\r\n", StringComparison.Ordinal), sentSoFar);
        Assert.True(capture.Completed);
        Assert.Equal("resp_1", capture.ResponseId);
    }

    [Fact]
    public async Task Json_IsHeldUntilHandedOver_ThenWritten()
    {
        using var sink = new MemoryStream();
        var handedOver = new List<(string Response, string SentSoFar)>();
        var capture = Capture(sink, "application/json", 4096, handedOver);

        await capture.WriteAsync(Encoding.UTF8.GetBytes(Completed[..10]));
        await capture.WriteAsync(Encoding.UTF8.GetBytes(Completed[10..]));
        var heldBack = sink.Length;
        await capture.FinishAsync(CancellationToken.None);

        Assert.Equal(0, heldBack);
        Assert.Equal((Completed, string.Empty), Assert.Single(handedOver));
        Assert.Equal(Completed, Encoding.UTF8.GetString(sink.ToArray()));
    }

    [Fact]
    public async Task Json_OverTheLimit_GoesOnAsItComes_AndIsOnlyIdentified()
    {
        var big = $$"""{"id":"resp_big","object":"response","output":[{"type":"message","content":[{"type":"output_text","text":"{{new string('x', 5000)}}"}]}]}""";
        using var sink = new MemoryStream();
        var handedOver = new List<(string Response, string SentSoFar)>();
        var capture = Capture(sink, "application/json", 1024, handedOver);

        var bytes = Encoding.UTF8.GetBytes(big);
        for (var offset = 0; offset < bytes.Length; offset += 700)
        {
            await capture.WriteAsync(bytes.AsMemory(offset, Math.Min(700, bytes.Length - offset)));
        }

        await capture.FinishAsync(CancellationToken.None);

        Assert.Empty(handedOver);
        Assert.Equal(big, Encoding.UTF8.GetString(sink.ToArray()));
        Assert.True(capture.TooLarge);
        Assert.False(capture.Completed);
        Assert.Equal("resp_big", capture.ResponseId);
    }

    [Fact]
    public async Task Events_WhoseCompletedEventIsOverTheLimit_AreNotHandedOver_ButKeepTheirId()
    {
        var events = "data: {\"type\":\"response.created\",\"response\":{\"id\":\"resp_2\",\"object\":\"response\"}}\n\n"
            + $"data: {{\"type\":\"response.completed\",\"response\":{{\"id\":\"resp_2\",\"object\":\"response\",\"pad\":\"{new string('x', 2000)}\"}}}}\n\n";
        using var sink = new MemoryStream();
        var handedOver = new List<(string Response, string SentSoFar)>();
        var capture = Capture(sink, "text/event-stream", 1024, handedOver);

        await capture.WriteAsync(Encoding.UTF8.GetBytes(events));

        Assert.Empty(handedOver);
        Assert.Equal(events, Encoding.UTF8.GetString(sink.ToArray()));
        Assert.True(capture.TooLarge);
        Assert.Equal("resp_2", capture.ResponseId);
    }

    private static ResponseCaptureStream Capture(MemoryStream sink, string contentType, int limit, List<(string Response, string SentSoFar)> handedOver)
    {
        var context = new DefaultHttpContext();
        context.Response.ContentType = contentType;
        return new ResponseCaptureStream(sink, context.Response, limit, response =>
        {
            handedOver.Add((Encoding.UTF8.GetString(response.Span), Encoding.UTF8.GetString(sink.ToArray())));
            return Task.CompletedTask;
        });
    }
}
