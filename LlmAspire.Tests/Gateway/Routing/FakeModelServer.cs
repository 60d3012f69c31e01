using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace LlmAspire.Tests.Gateway.Routing;

/// <summary>
/// An in-process stand-in for a model server: <c>/health</c> (toggled by <see cref="Healthy"/>), <c>/v1/models</c>
/// listing <see cref="Models"/>, and <c>/v1/completions</c> + <c>/v1/chat/completions</c> answered by
/// <see cref="OnCompletion"/> (by default a small JSON naming this server). Records every completion request.
/// </summary>
internal sealed class FakeModelServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _metricsReads;

    private FakeModelServer(string name, string[] models, WebApplication app)
    {
        Name = name;
        Models = models;
        _app = app;
        OnCompletion = AnswerAsync;
    }

    /// <summary>The name the gateway's configuration knows it by (a service-discovery name).</summary>
    public string Name { get; }

    /// <summary>The model ids its <c>/v1/models</c> lists.</summary>
    public string[] Models { get; }

    public string Url => _app.Urls.First();

    public bool Healthy { get; set; } = true;

    /// <summary>The Prometheus text its <c>/metrics</c> answers; null answers 404 (a server without metrics).</summary>
    public string? Metrics { get; set; }

    /// <summary>How many times <c>/metrics</c> was read.</summary>
    public int MetricsReads => _metricsReads;

    /// <summary>Completion requests received: headers and body.</summary>
    public ConcurrentQueue<(IHeaderDictionary Headers, string Body)> Requests { get; } = new();

    /// <summary>Answers a completion request; the default writes <c>{"server":"name"}</c>.</summary>
    public Func<HttpContext, Task> OnCompletion { get; set; }

    public static async Task<FakeModelServer> StartAsync(string name, params string[] models)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var server = new FakeModelServer(name, models, app);

        app.MapGet("/health", () => server.Healthy ? Results.Text("Healthy") : Results.StatusCode(StatusCodes.Status503ServiceUnavailable));
        app.MapGet("/v1/models", () => Results.Json(new
        {
            @object = "list",
            data = server.Models.Select(id => new { id, @object = "model", created = 1700000000, owned_by = "fake" }),
        }));
        app.MapGet("/metrics", () =>
        {
            Interlocked.Increment(ref server._metricsReads);
            return server.Metrics is { } text ? Results.Text(text, "text/plain; version=0.0.4") : Results.NotFound();
        });
        app.MapPost("/v1/completions", server.HandleAsync);
        app.MapPost("/v1/chat/completions", server.HandleAsync);
        await app.StartAsync().WaitAsync(TimeSpan.FromSeconds(30));
        return server;
    }

    /// <summary>
    /// A URL on which nothing listens, so connections are refused. Its port stays bound (not listening) until the
    /// returned handle is disposed, so no server started meanwhile by a parallel test can be given it.
    /// </summary>
    public static ClosedPort ReserveClosedUrl() => new();

    /// <summary>A loopback port bound without listening: connecting to it is refused.</summary>
    public sealed class ClosedPort : IDisposable
    {
        private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);

        internal ClosedPort()
        {
            _socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            Url = $"http://127.0.0.1:{((IPEndPoint)_socket.LocalEndPoint!).Port}";
        }

        public string Url { get; }

        public void Dispose() => _socket.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().WaitAsync(TimeSpan.FromSeconds(30));
        await _app.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body);
        var body = await reader.ReadToEndAsync(context.RequestAborted);
        Requests.Enqueue((new HeaderDictionary(context.Request.Headers.ToDictionary(h => h.Key, h => h.Value)), body));
        context.Items["body"] = body;
        await OnCompletion(context);
    }

    private Task AnswerAsync(HttpContext context) =>
        context.Response.WriteAsJsonAsync(new { server = Name, @object = "text_completion" }, context.RequestAborted);
}
