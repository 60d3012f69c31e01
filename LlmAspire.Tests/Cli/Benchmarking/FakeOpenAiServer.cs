using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace LlmAspire.Tests.Cli.Benchmarking;

/// <summary>
/// A tiny OpenAI-compatible server on 127.0.0.1 (Kestrel, in process) with deterministic timing: each streamed request
/// waits <see cref="FirstChunkDelay"/>, then sends <see cref="Chunks"/> content chunks <see cref="ChunkGap"/> apart,
/// a usage chunk when asked for and <see cref="SendsUsage"/>, then <c>data: [DONE]</c>.
/// </summary>
internal sealed class FakeOpenAiServer : IAsyncDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private readonly ConcurrentQueue<JsonObject> _requests = new();
    private WebApplication? _app;
    private int _count;

    public TimeSpan FirstChunkDelay { get; init; } = TimeSpan.FromMilliseconds(150);

    public TimeSpan ChunkGap { get; init; } = TimeSpan.FromMilliseconds(20);

    public int Chunks { get; init; } = 5;

    public int PromptTokens { get; init; } = 7;

    public bool SendsUsage { get; init; } = true;

    /// <summary>Every n-th request (1-based) is refused with 429; 0 never.</summary>
    public int RefuseEvery { get; init; }

    public string? CacheHeader { get; init; }

    public Uri Endpoint { get; private set; } = new("http://127.0.0.1");

    public IReadOnlyCollection<JsonObject> Requests => _requests;

    public async Task StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        WebApplication app = builder.Build();
        app.MapGet("/v1/models", () => Results.Json(new { @object = "list", data = new[] { new { id = "fake-model", @object = "model" } } }));
        app.MapPost("/v1/completions", context => StreamAsync(context, chat: false));
        app.MapPost("/v1/chat/completions", context => StreamAsync(context, chat: true));
        await app.StartAsync().WaitAsync(Timeout);
        _app = app;
        Endpoint = new Uri(app.Urls.First());
    }

    private async Task StreamAsync(HttpContext context, bool chat)
    {
        JsonObject body = (await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted))!.AsObject();
        _requests.Enqueue(body);
        int number = Interlocked.Increment(ref _count);
        if (RefuseEvery > 0 && number % RefuseEvery == 0)
        {
            context.Response.StatusCode = 429;
            await context.Response.WriteAsJsonAsync(new { error = new { message = "slow down", type = "rate_limit_exceeded" } });
            return;
        }

        if (CacheHeader is not null)
        {
            context.Response.Headers["X-Cache"] = CacheHeader;
        }

        context.Response.ContentType = "text/event-stream";
        await context.Response.Body.FlushAsync(context.RequestAborted);
        await DelayAtLeastAsync(FirstChunkDelay, context.RequestAborted);
        string kind = chat ? "chat.completion.chunk" : "text_completion";
        if (chat)
        {
            await SendAsync(context, $$"""{"id":"x","object":"{{kind}}","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}""");
        }

        for (int i = 0; i < Chunks; i++)
        {
            if (i > 0)
            {
                await DelayAtLeastAsync(ChunkGap, context.RequestAborted);
            }

            string finish = i == Chunks - 1 ? "\"length\"" : "null";
            string choice = chat
                ? $$"""{"index":0,"delta":{"content":" w{{i}}"},"finish_reason":{{finish}}}"""
                : $$"""{"index":0,"text":" w{{i}}","finish_reason":{{finish}}}""";
            await SendAsync(context, $$"""{"id":"x","object":"{{kind}}","choices":[{{choice}}]}""");
        }

        bool wantsUsage = body["stream_options"]?["include_usage"]?.GetValue<bool>() == true;
        if (SendsUsage && wantsUsage)
        {
            await SendAsync(context, $$$"""{"id":"x","object":"{{{kind}}}","choices":[],"usage":{"prompt_tokens":{{{PromptTokens}}},"completion_tokens":{{{Chunks}}},"total_tokens":{{{PromptTokens + Chunks}}}}}""");
        }

        await SendAsync(context, "[DONE]");
    }

    /// <summary>Task.Delay's timer ticks in whole milliseconds and may fire up to one early: top it up against a Stopwatch.</summary>
    private static async Task DelayAtLeastAsync(TimeSpan delay, CancellationToken cancellationToken)
    {
        long start = Stopwatch.GetTimestamp();
        await Task.Delay(delay, cancellationToken);
        while (Stopwatch.GetElapsedTime(start) < delay)
        {
            await Task.Delay(1, cancellationToken);
        }
    }

    private static async Task SendAsync(HttpContext context, string data)
    {
        await context.Response.WriteAsync($"data: {data}\n\n", context.RequestAborted);
        await context.Response.Body.FlushAsync(context.RequestAborted);
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync().WaitAsync(Timeout);
            await _app.DisposeAsync();
        }
    }
}
