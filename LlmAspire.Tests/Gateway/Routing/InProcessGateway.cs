using LlmAspire.Gateway.Apis;
using LlmAspire.Gateway.Requests;
using LlmAspire.Gateway.Routing;
using LlmAspire.Gateway.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Model;

namespace LlmAspire.Tests.Gateway.Routing;

/// <summary>The gateway in process, wired as Program.cs wires its routing, telemetry and model list.</summary>
internal static class InProcessGateway
{
    public static readonly TimeSpan TestTimeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Starts a gateway with <paramref name="configuration"/> plus a <c>services:{name}:http:0</c> entry per server,
    /// so servers are named in <c>Gateway:*</c> keys by their service-discovery names.
    /// </summary>
    public static async Task<WebApplication> StartAsync(
        IDictionary<string, string?> configuration,
        IEnumerable<(string Name, string Url)> servers,
        Action<WebApplication>? beforeProxy = null)
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var settings = new Dictionary<string, string?>(configuration);
        foreach (var (name, url) in servers)
        {
            settings[$"services:{name}:http:0"] = url;
        }

        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddServiceDefaults(GatewayMetrics.MeterName);
        builder.AddModelServerProxy();
        var app = builder.Build();
        app.MapDefaultEndpoints();
        app.UseGatewayTelemetry();
        app.UseCompletionRequests();
        beforeProxy?.Invoke(app);
        app.MapModelsApi();
        app.MapModelServerProxy();
        try
        {
            await app.StartAsync().WaitAsync(TestTimeout);
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }

        return app;
    }

    public static Task<WebApplication> StartAsync(IDictionary<string, string?> configuration, params FakeModelServer[] servers) =>
        StartAsync(configuration, servers.Select(server => (server.Name, server.Url)));

    public static HttpClient CreateClient(this WebApplication gateway) =>
        new() { BaseAddress = new Uri(gateway.Urls.First()), Timeout = TimeSpan.FromMinutes(2) };

    /// <summary>The gateway's view of the destination configured as <paramref name="server"/>.</summary>
    public static DestinationState Destination(this WebApplication gateway, string clusterId, string server)
    {
        var lookup = gateway.Services.GetRequiredService<IProxyStateLookup>();
        Assert.True(lookup.TryGetCluster(clusterId, out var cluster), $"no cluster {clusterId}");
        return cluster.Destinations.Values.Single(destination => DestinationMetadata.ServerName(destination) == server);
    }

    /// <summary>Waits (bounded) until <paramref name="condition"/> holds; for state that no event announces.</summary>
    public static Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout, string what) =>
        WaitUntilAsync(() => Task.FromResult(condition()), timeout, what);

    /// <summary>Waits (bounded) until <paramref name="condition"/> holds; for state that no event announces.</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        using var cancellation = new CancellationTokenSource(timeout);
        while (!await condition().WaitAsync(timeout))
        {
            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(25), cancellation.Token);
            }
            catch (OperationCanceledException)
            {
                Assert.Fail($"Timed out after {timeout} waiting until {what}.");
            }
        }
    }

    /// <summary>A completion request body.</summary>
    public static StringContent Completion(string? model, string prompt = "Once upon a time", bool stream = false, int maxTokens = 8)
    {
        var fields = new Dictionary<string, object> { ["prompt"] = prompt, ["max_tokens"] = maxTokens, ["temperature"] = 0, ["stream"] = stream };
        if (model is not null)
        {
            fields["model"] = model;
        }

        return new StringContent(System.Text.Json.JsonSerializer.Serialize(fields), System.Text.Encoding.UTF8, "application/json");
    }
}
