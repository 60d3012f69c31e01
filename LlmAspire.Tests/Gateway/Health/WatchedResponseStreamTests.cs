using System.IO.Pipelines;
using System.Text;
using LlmAspire.Gateway.Health;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Yarp.ReverseProxy.Forwarder;

namespace LlmAspire.Tests.Gateway.Health;

/// <summary>How the proxy reads a model server's body: whole events only, and an error event when the server fails.</summary>
public sealed class WatchedResponseStreamTests : IDisposable
{
    private static readonly TimeSpan s_idle = TimeSpan.FromMilliseconds(300);
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);

    private readonly Pipe _server = new();
    private readonly DefaultHttpContext _context = new();
    private readonly CancellationTokenSource _unreachable = new();

    public void Dispose() => _unreachable.Dispose();

    private WatchedResponseStream Watch(bool events) =>
        new(_server.Reader.AsStream(), events, s_idle, _unreachable.Token, _context, NullLogger.Instance);

    private async Task SendAsync(string text) => await _server.Writer.WriteAsync(Encoding.UTF8.GetBytes(text)).AsTask().WaitAsync(s_timeout);

    private static async Task<string> ReadAsync(Stream stream)
    {
        var buffer = new byte[256];
        var read = await stream.ReadAsync(buffer).AsTask().WaitAsync(s_timeout);
        return Encoding.UTF8.GetString(buffer, 0, read);
    }

    [Fact]
    public async Task Read_EventArrivesInPieces_PassedOnWhenWhole()
    {
        using var stream = Watch(events: true);

        await SendAsync("data: one\n\ndata: tw");
        Assert.Equal("data: one\n\n", await ReadAsync(stream));
        await SendAsync("o\n");
        await SendAsync("\ndata: three\r\n\r\n");

        Assert.Equal("data: two\n\ndata: three\r\n\r\n", await ReadAsync(stream));
    }

    [Fact]
    public async Task Read_ServerEndsTheStream_WhatIsLeftIsPassedOn()
    {
        using var stream = Watch(events: true);

        await SendAsync("data: one\n\ndata: [DONE]");
        await _server.Writer.CompleteAsync();

        Assert.Equal("data: one\n\n", await ReadAsync(stream));
        Assert.Equal("data: [DONE]", await ReadAsync(stream));
        Assert.Equal("", await ReadAsync(stream));
        Assert.Null(_context.Features.Get<IForwarderErrorFeature>());
    }

    [Fact]
    public async Task Read_ServerSilentAfterAnEvent_PartialEventDroppedAndAnErrorEventEndsTheStream()
    {
        using var stream = Watch(events: true);
        await SendAsync("data: one\n\ndata: {\"par");
        Assert.Equal("data: one\n\n", await ReadAsync(stream));

        var errorEvent = await ReadAsync(stream);

        Assert.StartsWith("data: {\"error\":{\"message\":", errorEvent, StringComparison.Ordinal);
        Assert.Contains("\"code\":\"model_server_timeout\"", errorEvent, StringComparison.Ordinal);
        Assert.EndsWith("}}\n\n", errorEvent, StringComparison.Ordinal);
        Assert.Equal("", await ReadAsync(stream));
        Assert.Equal(ForwarderError.ResponseBodyDestination, _context.Features.Get<IForwarderErrorFeature>()?.Error);
    }

    [Fact]
    public async Task Read_ServerUnreachableAfterAnEvent_AnErrorEventEndsTheStream()
    {
        using var stream = Watch(events: true);
        await SendAsync("data: one\n\n");
        Assert.Equal("data: one\n\n", await ReadAsync(stream));

        var reading = ReadAsync(stream);
        await _unreachable.CancelAsync();

        Assert.Contains("\"code\":\"model_server_unreachable\"", await reading, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Read_ServerSilentBeforeAnyEvent_Throws()
    {
        using var stream = Watch(events: true);
        await SendAsync("data: {\"par");

        var failure = await Assert.ThrowsAsync<UpstreamBodyException>(() => ReadAsync(stream));

        Assert.Equal(UpstreamFailure.Idle, failure.Failure);
    }

    [Fact]
    public async Task Read_PlainBodyWhoseServerGoesSilent_Throws()
    {
        using var stream = Watch(events: false);
        await SendAsync("{\"partial");
        Assert.Equal("{\"partial", await ReadAsync(stream));

        var failure = await Assert.ThrowsAsync<UpstreamBodyException>(() => ReadAsync(stream));

        Assert.Equal(UpstreamFailure.Idle, failure.Failure);
    }

    [Fact]
    public async Task Read_CallerCancels_CancellationIsNotAFailure()
    {
        using var stream = Watch(events: true);
        await SendAsync("data: one\n\n");
        Assert.Equal("data: one\n\n", await ReadAsync(stream));
        using var caller = new CancellationTokenSource();

        var reading = stream.ReadAsync(new byte[16], caller.Token).AsTask();
        await caller.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => reading.WaitAsync(s_timeout));
        Assert.Null(_context.Features.Get<IForwarderErrorFeature>());
    }
}
