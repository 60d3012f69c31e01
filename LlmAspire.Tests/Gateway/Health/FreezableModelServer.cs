using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace LlmAspire.Tests.Gateway.Health;

/// <summary>
/// A model server stand-in that can freeze: once <see cref="Frozen"/>, its <c>/health</c> never answers, as a stopped
/// process whose kernel still accepts connections. Completion requests go to <see cref="OnCompletion"/>, which by
/// default never answers either; <see cref="Received"/> completes when the first arrives.
/// </summary>
internal sealed class FreezableModelServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly TaskCompletionSource _received = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private FreezableModelServer(string name, WebApplication app)
    {
        Name = name;
        _app = app;
        OnCompletion = context => Task.Delay(Timeout.Infinite, context.RequestAborted);
    }

    /// <summary>The name the gateway's configuration knows it by.</summary>
    public string Name { get; }

    public string Url => _app.Urls.First();

    /// <summary>Whether <c>/health</c> hangs instead of answering.</summary>
    public bool Frozen { get; set; }

    /// <summary>Completes when the first completion request has arrived.</summary>
    public Task Received => _received.Task;

    /// <summary>How many completion requests arrived.</summary>
    public ConcurrentQueue<DateTimeOffset> Requests { get; } = new();

    /// <summary>Answers (or not) a completion request.</summary>
    public Func<HttpContext, Task> OnCompletion { get; set; }

    public static async Task<FreezableModelServer> StartAsync(string name)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        // Requests it never answers are cut off after a second when it stops, not after the default 30 s.
        builder.Services.Configure<HostOptions>(options => options.ShutdownTimeout = TimeSpan.FromSeconds(1));
        var app = builder.Build();
        var server = new FreezableModelServer(name, app);
        app.MapGet("/health", async context =>
        {
            if (server.Frozen)
            {
                await Task.Delay(Timeout.Infinite, context.RequestAborted);
            }

            await context.Response.WriteAsync("Healthy", context.RequestAborted);
        });
        app.MapPost("/v1/completions", async context =>
        {
            server.Requests.Enqueue(DateTimeOffset.UtcNow);
            server._received.TrySetResult();
            await server.OnCompletion(context);
        });
        await app.StartAsync().WaitAsync(TimeSpan.FromSeconds(30));
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().WaitAsync(TimeSpan.FromSeconds(30));
        await _app.DisposeAsync();
    }
}
