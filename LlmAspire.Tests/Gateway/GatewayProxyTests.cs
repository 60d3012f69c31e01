using System.Net;
using LlmAspire.Gateway.Routing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace LlmAspire.Tests.Gateway;

/// <summary>The gateway, in process, in front of a fake model server found by service discovery.</summary>
public sealed class GatewayProxyTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Proxy_ServerSentEvents_ReachTheClientBeforeTheStreamEnds()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var backend = await StartBackendAsync(release.Task);
        await using var gateway = await StartGatewayAsync(backend.Urls.First());
        using var client = new HttpClient { BaseAddress = new Uri(gateway.Urls.First()) };

        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/v1/completions", UriKind.Relative))
        {
            Content = new StringContent("""{"stream":true}""", System.Text.Encoding.UTF8, "application/json"),
        };
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead).WaitAsync(s_timeout);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync().WaitAsync(s_timeout));

        // The backend holds the stream open until released: the first event must already be through.
        Assert.Equal("data: first", await reader.ReadLineAsync().WaitAsync(s_timeout));
        Assert.Equal("", await reader.ReadLineAsync().WaitAsync(s_timeout));
        release.SetResult();
        Assert.Equal("data: [DONE]", await reader.ReadLineAsync().WaitAsync(s_timeout));
    }

    [Fact]
    public async Task Proxy_PathOutsideV1_IsNotForwarded()
    {
        await using var backend = await StartBackendAsync(Task.CompletedTask);
        await using var gateway = await StartGatewayAsync(backend.Urls.First());
        using var client = new HttpClient { BaseAddress = new Uri(gateway.Urls.First()) };

        using var forwarded = await client.GetAsync(new Uri("/v1/models", UriKind.Relative)).WaitAsync(s_timeout);
        using var notForwarded = await client.GetAsync(new Uri("/models", UriKind.Relative)).WaitAsync(s_timeout);
        using var health = await client.GetAsync(new Uri("/health", UriKind.Relative)).WaitAsync(s_timeout);

        Assert.Equal(HttpStatusCode.OK, forwarded.StatusCode);
        Assert.Equal("""{"object":"list","data":[]}""", await forwarded.Content.ReadAsStringAsync().WaitAsync(s_timeout));
        Assert.Equal(HttpStatusCode.NotFound, notForwarded.StatusCode);
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    [Fact]
    public async Task Start_NoModelServersConfigured_FailsValidation()
    {
        var exception = await Assert.ThrowsAsync<OptionsValidationException>(
            () => StartGatewayAsync(backendUrl: null).WaitAsync(s_timeout));

        Assert.Contains("Gateway:ModelServers", exception.Message, StringComparison.Ordinal);
    }

    /// <summary>Starts the gateway exactly as Program.cs wires it, with one model server named "backend".</summary>
    private static async Task<WebApplication> StartGatewayAsync(string? backendUrl)
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        if (backendUrl is not null)
        {
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Gateway:ModelServers:0"] = "backend",
                ["services:backend:http:0"] = backendUrl,
            });
        }

        builder.AddServiceDefaults();
        builder.AddModelServerProxy();
        var app = builder.Build();
        app.MapDefaultEndpoints();
        app.MapModelServerProxy();
        try
        {
            await app.StartAsync().WaitAsync(s_timeout);
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }

        return app;
    }

    /// <summary>A fake model server whose stream sends one event, then waits for <paramref name="release"/>.</summary>
    private static async Task<WebApplication> StartBackendAsync(Task release)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        app.MapGet("/health", () => "Healthy");
        app.MapGet("/v1/models", () => Results.Text("""{"object":"list","data":[]}""", "application/json"));
        app.MapPost("/v1/completions", async (HttpContext context) =>
        {
            context.Response.ContentType = "text/event-stream";
            await context.Response.WriteAsync("data: first\n\n", context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
            await release.WaitAsync(s_timeout, context.RequestAborted);
            await context.Response.WriteAsync("data: [DONE]\n\n", context.RequestAborted);
        });
        await app.StartAsync().WaitAsync(s_timeout);
        return app;
    }
}
