using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using LlmAspire.Gateway.Telemetry;
using LlmAspire.Tests.Gateway.Routing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using static LlmAspire.Tests.Gateway.Routing.InProcessGateway;

namespace LlmAspire.Tests.Gateway;

/// <summary>The <c>LlmAspire.Gateway</c> meter: requests by route, model, destination, status and cache result.</summary>
public sealed class GatewayRoutingTelemetryTests
{
    [Fact]
    public async Task Requests_AreCountedByRouteModelDestinationStatusAndCacheResult()
    {
        await using var server = await FakeModelServer.StartAsync("modelserver-0", "m");
        await using var gateway = await StartAsync(
            new Dictionary<string, string?> { ["Gateway:ModelServers:0"] = "modelserver-0", ["Gateway:DefaultModel"] = "m" },
            [(server.Name, server.Url)],
            app => app.Use(async (context, next) =>
            {
                // Stands in for the response cache: a hit answers before the proxy and tags the request.
                if (context.Request.Headers.ContainsKey("x-test-cache-hit"))
                {
                    context.SetCacheResult("hit");
                    await context.Response.WriteAsync("{}");
                    return;
                }

                await next(context);
            }));
        using var recorder = new MeasurementRecorder(gateway.Services.GetRequiredService<IMeterFactory>(), "llmaspire.gateway.requests");
        using var client = gateway.CreateClient();

        using (var ok = await client.PostAsync(new Uri("/v1/completions", UriKind.Relative), Completion("m")).WaitAsync(TestTimeout))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        using (var notFound = await client.PostAsync(new Uri("/v1/completions", UriKind.Relative), Completion("nope")).WaitAsync(TestTimeout))
        {
            Assert.Equal(HttpStatusCode.NotFound, notFound.StatusCode);
        }

        using (var hit = new HttpRequestMessage(HttpMethod.Post, new Uri("/v1/completions", UriKind.Relative)) { Content = Completion("m") })
        {
            hit.Headers.Add("x-test-cache-hit", "1");
            using var response = await client.SendAsync(hit).WaitAsync(TestTimeout);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        using (var health = await client.GetAsync(new Uri("/health", UriKind.Relative)).WaitAsync(TestTimeout))
        {
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        }

        var measurements = await recorder.WaitForAsync(3).WaitAsync(TestTimeout);

        Assert.Contains(measurements, tags =>
            tags["route"] as string == "openai-v1" && tags["model"] as string == "m" && tags["destination"] as string == "modelserver-0"
            && (int)tags["status"]! == 200 && tags["cache"] as string == "none");
        Assert.Contains(measurements, tags =>
            tags["route"] as string == "openai-v1" && tags["destination"] as string == "none" && (int)tags["status"]! == 404);
        Assert.Contains(measurements, tags =>
            tags["destination"] as string == "none" && (int)tags["status"]! == 200 && tags["cache"] as string == "hit");
        Assert.Equal(3, measurements.Count);
    }

    /// <summary>Records one instrument of the gateway's meter, in one app only (its own meter factory).</summary>
    private sealed class MeasurementRecorder : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly ConcurrentQueue<Dictionary<string, object?>> _measurements = new();
        private readonly SemaphoreSlim _recorded = new(0);

        public MeasurementRecorder(IMeterFactory factory, string instrument)
        {
            _listener.InstrumentPublished = (published, listener) =>
            {
                if (published.Meter.Name == GatewayMetrics.MeterName && ReferenceEquals(published.Meter.Scope, factory) && published.Name == instrument)
                {
                    listener.EnableMeasurementEvents(published);
                }
            };
            _listener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
            {
                var copy = new Dictionary<string, object?>();
                foreach (var tag in tags)
                {
                    copy[tag.Key] = tag.Value;
                }

                _measurements.Enqueue(copy);
                _recorded.Release();
            });
            _listener.Start();
        }

        public async Task<List<Dictionary<string, object?>>> WaitForAsync(int count)
        {
            for (var i = 0; i < count; i++)
            {
                await _recorded.WaitAsync();
            }

            return [.. _measurements];
        }

        public void Dispose()
        {
            _listener.Dispose();
            _recorded.Dispose();
        }
    }
}
