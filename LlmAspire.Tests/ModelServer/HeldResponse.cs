using System.Net.Sockets;
using static LlmAspire.Tests.ModelServer.ModelServerHttp;

namespace LlmAspire.Tests.ModelServer;

/// <summary>
/// A large response that a slow client holds open: read through a 4 KiB socket receive buffer, a few KiB every 100 ms
/// (well above Kestrel's minimum data rate, far below what the server could send) until <see cref="Release"/>, then
/// at full speed. Once the server's buffers are full its writes wait on the client, so the response stays in flight
/// for as long as the test needs, without depending on how fast the engine generates.
/// </summary>
internal sealed class HeldResponse : IDisposable
{
    private static readonly TimeSpan s_trickle = TimeSpan.FromMilliseconds(100);

    private readonly HttpClient _client;
    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private HeldResponse(HttpClient client, HttpResponseMessage response)
    {
        _client = client;
        Response = response;
        Body = ReadAsync();
    }

    /// <summary>The response, its headers read.</summary>
    public HttpResponseMessage Response { get; }

    /// <summary>The whole body; completes after <see cref="Release"/> once the server ends the response.</summary>
    public Task<byte[]> Body { get; }

    /// <summary>Posts <paramref name="json"/> to <paramref name="uri"/> on <paramref name="server"/> and returns once the headers arrived.</summary>
    public static async Task<HeldResponse> SendAsync(Uri server, Uri uri, string json)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (context, cancellationToken) =>
            {
                // Set before connecting: a fixed small buffer, which also turns off the kernel's receive autotuning.
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, ReceiveBufferSize = 4096 };
                try
                {
                    await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        var client = new HttpClient(handler) { BaseAddress = server, Timeout = Timeout.InfiniteTimeSpan };
        try
        {
            var response = await PostAsync(client, uri, json, completion: HttpCompletionOption.ResponseHeadersRead);
            return new HeldResponse(client, response);
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    /// <summary>Reads the rest at full speed.</summary>
    public void Release() => _released.TrySetResult();

    public void Dispose()
    {
        Release();
        Response.Dispose();
        _client.Dispose();
    }

    private async Task<byte[]> ReadAsync()
    {
        await using var body = await Response.Content.ReadAsStreamAsync();
        using var all = new MemoryStream();
        var buffer = new byte[4096];
        int read;
        do
        {
            if (!_released.Task.IsCompleted)
            {
                await Task.WhenAny(_released.Task, Task.Delay(s_trickle));
            }

            read = await body.ReadAsync(buffer);
            all.Write(buffer, 0, read);
        }
        while (read > 0);

        return all.ToArray();
    }
}
