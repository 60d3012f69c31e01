using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace LlmAspire.Tests.Gateway.Caching;

/// <summary>
/// A stand-in model server that counts what reaches it: <c>/v1/completions</c> answers JSON with <c>usage</c> (or an
/// SSE stream ending <c>data: [DONE]</c>), each answer unique, optionally held until <see cref="Release"/>.
/// A prompt of <c>fail</c> answers 400; <c>big</c> answers a body of <see cref="BigBodyBytes"/>.
/// </summary>
internal sealed class FakeModelServer : IAsyncDisposable
{
    public const int BigBodyBytes = 64 * 1024;

    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(60);

    private readonly WebApplication _app;
    private readonly TaskCompletionSource _firstRequest = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _completions;

    private FakeModelServer(WebApplication app) => _app = app;

    public string Url => _app.Urls.First();

    /// <summary>Completion requests that reached this server.</summary>
    public int Completions => Volatile.Read(ref _completions);

    /// <summary>Completes when the first completion request arrives.</summary>
    public Task FirstRequest => _firstRequest.Task;

    /// <summary>Whether answers wait for <see cref="Release"/> (a stream sends its first event first).</summary>
    public bool Hold { get; set; }

    public void Release() => _release.TrySetResult();

    public static async Task<FakeModelServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var app = builder.Build();
        var server = new FakeModelServer(app);
        app.MapGet("/health", () => "Healthy");
        app.MapPost("/v1/completions", server.CompleteAsync);
        await app.StartAsync().WaitAsync(s_timeout);
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        Release();
        await _app.StopAsync().WaitAsync(s_timeout);
        await _app.DisposeAsync();
    }

    private async Task CompleteAsync(HttpContext context)
    {
        var number = Interlocked.Increment(ref _completions);
        _firstRequest.TrySetResult();
        using var request = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
        var root = request.RootElement;
        var prompt = root.TryGetProperty("prompt", out var p) ? p.GetString() : "";
        var stream = root.TryGetProperty("stream", out var s) && s.ValueKind == JsonValueKind.True;
        if (prompt == "fail")
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            await context.Response.WriteAsJsonAsync(new { error = new { message = "bad", type = "invalid_request_error", param = (string?)null, code = "bad" } });
            return;
        }

        var text = prompt == "big" ? new string('x', BigBodyBytes) : $"answer {number}";
        if (!stream)
        {
            if (Hold)
            {
                await _release.Task.WaitAsync(s_timeout, context.RequestAborted);
            }

            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(
                $$$"""{"id":"cmpl-{{{number}}}","object":"text_completion","created":1,"model":"fake","choices":[{"text":"{{{text}}}","index":0,"finish_reason":"length"}],"usage":{"prompt_tokens":5,"completion_tokens":3,"total_tokens":8}}""",
                context.RequestAborted);
            return;
        }

        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache";
        foreach (var (piece, index) in new[] { "answer", $" {number}" }.Select((piece, index) => (piece, index)))
        {
            var finish = index == 1 ? "\"length\"" : "null";
            await context.Response.WriteAsync(
                "data: {\"id\":\"cmpl-" + number + "\",\"object\":\"text_completion\",\"created\":1,\"model\":\"fake\",\"choices\":[{\"text\":\"" + piece
                + "\",\"index\":0,\"finish_reason\":" + finish + "}]}\n\n",
                context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
            if (index == 0 && Hold)
            {
                await _release.Task.WaitAsync(s_timeout, context.RequestAborted);
            }
        }

        await context.Response.WriteAsync(
            """data: {"id":"x","object":"text_completion","created":1,"model":"fake","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}""" + "\n\n"
            + "data: [DONE]\n\n",
            context.RequestAborted);
    }

    /// <summary>A completion request body.</summary>
    public static StringContent Body(string prompt, bool stream = false, double temperature = 0, int maxTokens = 8, long? seed = null)
    {
        var seedPart = seed is null ? "" : $",\"seed\":{seed}";
        return new StringContent(
            $$"""{"model":"fake","prompt":{{JsonSerializer.Serialize(prompt)}},"max_tokens":{{maxTokens}},"temperature":{{temperature.ToString(System.Globalization.CultureInfo.InvariantCulture)}},"stream":{{(stream ? "true" : "false")}}{{seedPart}}}""",
            Encoding.UTF8,
            "application/json");
    }
}
