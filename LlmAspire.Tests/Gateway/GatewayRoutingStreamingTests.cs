using System.Diagnostics;
using System.Net;
using LlmAspire.Tests.Gateway.Routing;
using Microsoft.AspNetCore.Http;
using static LlmAspire.Tests.Gateway.Routing.InProcessGateway;

namespace LlmAspire.Tests.Gateway;

/// <summary>Server-sent events through the gateway: unbuffered, uncompressed, aborts passed on; trace context forwarded.</summary>
public sealed class GatewayRoutingStreamingTests
{
    private static Dictionary<string, string?> OneServer(string name) => new()
    {
        ["Gateway:ModelServers:0"] = name,
        ["Gateway:DefaultModel"] = "m",
    };

    [Fact]
    public async Task Stream_ClientAcceptsGzip_EventsArriveUncompressedBeforeTheStreamEnds()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await FakeModelServer.StartAsync("modelserver-0", "m");
        server.OnCompletion = async context =>
        {
            context.Response.ContentType = "text/event-stream";
            await context.Response.WriteAsync("data: first\n\n", context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
            await release.Task.WaitAsync(TestTimeout, context.RequestAborted);
            await context.Response.WriteAsync("data: [DONE]\n\n", context.RequestAborted);
        };
        await using var gateway = await StartAsync(OneServer(server.Name), server);
        using var client = gateway.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/v1/completions", UriKind.Relative)) { Content = Completion("m", stream: true) };
        request.Headers.AcceptEncoding.ParseAdd("gzip, br");

        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead).WaitAsync(TestTimeout);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync().WaitAsync(TestTimeout));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.Empty(response.Content.Headers.ContentEncoding);
        Assert.Equal("data: first", await reader.ReadLineAsync().WaitAsync(TestTimeout));
        release.SetResult();
        Assert.Equal("", await reader.ReadLineAsync().WaitAsync(TestTimeout));
        Assert.Equal("data: [DONE]", await reader.ReadLineAsync().WaitAsync(TestTimeout));
    }

    [Fact]
    public async Task Stream_ClientAborts_TheModelServerSeesTheAbort()
    {
        var aborted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await FakeModelServer.StartAsync("modelserver-0", "m");
        server.OnCompletion = async context =>
        {
            context.Response.ContentType = "text/event-stream";
            using var registration = context.RequestAborted.Register(aborted.SetResult);
            try
            {
                for (var i = 0; ; i++)
                {
                    await context.Response.WriteAsync($"data: token {i}\n\n", context.RequestAborted);
                    await context.Response.Body.FlushAsync(context.RequestAborted);
                    await Task.Delay(20, context.RequestAborted);
                }
            }
            catch (OperationCanceledException)
            {
                // The client left.
            }
        };
        await using var gateway = await StartAsync(OneServer(server.Name), server);
        // Drain nothing on dispose: disposing the response must cut the connection, as a client that goes away does.
        using var client = new HttpClient(new SocketsHttpHandler { MaxResponseDrainSize = 0 }) { BaseAddress = new Uri(gateway.Urls.First()) };
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/v1/completions", UriKind.Relative)) { Content = Completion("m", stream: true) };

        var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead).WaitAsync(TestTimeout);
        var reader = new StreamReader(await response.Content.ReadAsStreamAsync().WaitAsync(TestTimeout));
        Assert.Equal("data: token 0", await reader.ReadLineAsync().WaitAsync(TestTimeout));
        reader.Dispose();
        response.Dispose();
        request.Dispose();

        await aborted.Task.WaitAsync(TestTimeout);
    }

    [Fact]
    public async Task Completions_RequestWithTraceparent_ForwardsTheSameTraceToTheServer()
    {
        await using var server = await FakeModelServer.StartAsync("modelserver-0", "m");
        await using var gateway = await StartAsync(OneServer(server.Name), server);
        // Without a propagator, so this client's own activity (in-process instrumentation) does not replace the header.
        using var client = new HttpClient(new SocketsHttpHandler { ActivityHeadersPropagator = null }) { BaseAddress = new Uri(gateway.Urls.First()) };
        const string traceId = "0af7651916cd43dd8448eb211c80319c";
        const string parentId = "b7ad6b7169203331";
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/v1/completions", UriKind.Relative)) { Content = Completion("m") };
        request.Headers.Add("traceparent", $"00-{traceId}-{parentId}-01");

        using var response = await client.SendAsync(request).WaitAsync(TestTimeout);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(server.Requests.TryDequeue(out var forwarded));
        var traceparent = Assert.Single(forwarded.Headers["traceparent"].ToArray());
        var context = ActivityContext.Parse(traceparent!, traceState: null);
        Assert.Equal(traceId, context.TraceId.ToHexString());
        // The server's parent is the gateway's own span, not the client's.
        Assert.NotEqual(parentId, context.SpanId.ToHexString());
    }
}
