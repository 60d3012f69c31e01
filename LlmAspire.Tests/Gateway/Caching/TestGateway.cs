using System.Diagnostics.Metrics;
using LlmAspire.Gateway.Auth;
using LlmAspire.Gateway.Caching;
using LlmAspire.Gateway.RateLimiting;
using LlmAspire.Gateway.Apis;
using LlmAspire.Gateway.Requests;
using LlmAspire.Gateway.Responses;
using LlmAspire.Gateway.Routing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace LlmAspire.Tests.Gateway.Caching;

/// <summary>
/// A gateway in process, wired as Program.cs wires it (keys → limits → cache → proxy), on a free port: several can
/// run side by side over the same Redis, each with a fresh L1, and each counts its own cache results.
/// </summary>
internal sealed class TestGateway : IAsyncDisposable
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(60);

    private readonly WebApplication _app;
    private readonly MeterListener _listener;
    private readonly Dictionary<string, long> _cacheResults = new(StringComparer.Ordinal);

    private TestGateway(WebApplication app)
    {
        _app = app;
        var meterFactory = app.Services.GetRequiredService<IMeterFactory>();
        _listener = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (ReferenceEquals(instrument.Meter.Scope, meterFactory) && instrument.Name == CacheMetrics.RequestsCounterName)
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "result")
                {
                    lock (_cacheResults)
                    {
                        var result = (string)tag.Value!;
                        _cacheResults[result] = _cacheResults.GetValueOrDefault(result) + value;
                    }
                }
            }
        });
        _listener.Start();
    }

    public Uri BaseAddress => new(_app.Urls.First());

    public IServiceProvider Services => _app.Services;

    /// <summary>How many completion requests had this cache result (<c>hit</c>, <c>miss</c>, <c>bypass</c>).</summary>
    public long CacheResults(string result)
    {
        lock (_cacheResults)
        {
            return _cacheResults.GetValueOrDefault(result);
        }
    }

    public HttpClient CreateClient(string? apiKey = null)
    {
        var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromMinutes(2) };
        if (apiKey is not null)
        {
            client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", apiKey);
        }

        return client;
    }

    /// <summary>
    /// Starts a gateway in front of <paramref name="modelServers"/> (absolute URLs); <paramref name="redis"/> is the
    /// <c>cache</c> connection string (null: no Redis); <paramref name="settings"/> adds or overrides configuration.
    /// </summary>
    public static async Task<TestGateway> StartAsync(
        IReadOnlyList<string> modelServers,
        string? redis,
        IReadOnlyDictionary<string, string?>? settings = null,
        Action<IServiceCollection>? configureServices = null)
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var configuration = new Dictionary<string, string?>
        {
            ["Gateway:HealthCheckInterval"] = "00:00:01",
            ["Gateway:Redis:BreakDuration"] = "00:00:02",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        for (var index = 0; index < modelServers.Count; index++)
        {
            configuration[$"Gateway:ModelServers:{index}"] = modelServers[index];
        }

        if (redis is not null)
        {
            configuration["ConnectionStrings:cache"] = redis;
        }

        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            configuration[key] = value;
        }

        builder.Configuration.AddInMemoryCollection(configuration);

        builder.AddServiceDefaults();
        builder.AddModelServerProxy();
        builder.AddApiKeys();
        builder.AddRateLimits();
        builder.AddResponseCache();
        builder.AddStoredResponses();
        configureServices?.Invoke(builder.Services);

        var app = builder.Build();
        app.MapDefaultEndpoints();
        app.UseApiKeys();
        app.UseCompletionRequests();
        app.UseStoredResponses();
        app.UseRateLimits();
        app.UseResponseCache();
        app.MapResponsesApi();
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

        return new TestGateway(app);
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Dispose();
        await _app.StopAsync().WaitAsync(s_timeout);
        await _app.DisposeAsync();
    }
}
