using System.Text;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using LlmAspire.Inference.Models;
using LlmAspire.Tests.Inference;
using Microsoft.Extensions.DependencyInjection;

namespace LlmAspire.Tests.AppHost;

/// <summary>
/// The whole topology, once per test run: stories260K converted from ../shared into a temp folder,
/// Redis as redis-server, three model servers serving that folder and the gateway, all healthy.
/// </summary>
public sealed class AspireAppFixture : IAsyncLifetime
{
    /// <summary>The model servers the fixture starts.</summary>
    public const int ModelServerCount = 3;

    /// <summary>The model id the servers serve: the converted folder's name.</summary>
    public const string ModelId = "stories260K";

    private static readonly TimeSpan s_startTimeout = TimeSpan.FromMinutes(3);
    private static readonly TimeSpan s_stopTimeout = TimeSpan.FromMinutes(1);

    private readonly string _tempDirectory;
    private DistributedApplication? _app;

    public AspireAppFixture()
    {
        _tempDirectory = Path.Combine(Path.GetTempPath(), "llmaspire-tests", "e2e-" + Guid.NewGuid().ToString("N"));
        ModelPath = Path.Combine(_tempDirectory, ModelId);
    }

    /// <summary>The running app.</summary>
    public DistributedApplication App => _app ?? throw new InvalidOperationException("The Aspire app has not started.");

    /// <summary>The converted stories260K folder every server serves.</summary>
    public string ModelPath { get; }

    /// <summary>The names of every resource the fixture waits for.</summary>
    public static IReadOnlyList<string> ResourceNames { get; } =
        ["cache", .. Enumerable.Range(0, ModelServerCount).Select(ModelServerName), "gateway"];

    /// <summary><c>modelserver-{index}</c>.</summary>
    public static string ModelServerName(int index) => $"modelserver-{index}";

    /// <summary>A client whose base address is the gateway's endpoint.</summary>
    public HttpClient CreateGatewayClient() => CreateClient("gateway");

    /// <summary>A client whose base address is <c>modelserver-{index}</c>'s endpoint.</summary>
    public HttpClient CreateModelServerClient(int index) => CreateClient(ModelServerName(index));

    public async Task InitializeAsync()
    {
        if (!File.Exists(TestPaths.Stories260KCheckpoint) || !File.Exists(TestPaths.Stories260KTokenizer))
        {
            // Every test of the collection is a Stories260KFact and skips, saying why; start nothing.
            return;
        }

        using var cancellation = new CancellationTokenSource(s_startTimeout);
        var cancellationToken = cancellation.Token;

        Directory.CreateDirectory(_tempDirectory);
        await Task.Run(
            () => ModelConverter.ConvertLlama2c(TestPaths.Stories260KCheckpoint, TestPaths.Stories260KTokenizer, ModelPath),
            cancellationToken).WaitAsync(s_startTimeout, cancellationToken);

        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.LlmAspire_AppHost>(
            [
                "LlmAspire:RedisMode=executable",
                $"LlmAspire:ModelPath={ModelPath}",
                $"LlmAspire:ModelServers={ModelServerCount}",
                "LlmAspire:GatewayPort=0",
            ],
            cancellationToken).WaitAsync(s_startTimeout, cancellationToken);

        _app = await builder.BuildAsync(cancellationToken).WaitAsync(s_startTimeout, cancellationToken);
        await _app.StartAsync(cancellationToken).WaitAsync(s_startTimeout, cancellationToken);

        try
        {
            await Task.WhenAll(ResourceNames.Select(name =>
                _app.ResourceNotifications.WaitForResourceHealthyAsync(name, cancellationToken)))
                .WaitAsync(s_startTimeout, cancellationToken);
        }
        catch (Exception exception) when (exception is OperationCanceledException or TimeoutException)
        {
            throw new TimeoutException(
                $"The topology did not become healthy within {s_startTimeout}.{Environment.NewLine}{await DescribeResourcesAsync(_app)}",
                exception);
        }
    }

    public async Task DisposeAsync()
    {
        await AppShutdown.StopAsync(_app, s_stopTimeout);

        try
        {
            Directory.Delete(_tempDirectory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: the temp folder is cleaned up with the machine's temp files.
        }
    }

    private HttpClient CreateClient(string resourceName) =>
        new() { BaseAddress = App.GetEndpoint(resourceName, "http"), Timeout = TimeSpan.FromMinutes(2) };

    /// <summary>Each resource's state and the tail of its logs, for a start-up failure message.</summary>
    private static async Task<string> DescribeResourcesAsync(DistributedApplication app)
    {
        var loggers = app.Services.GetRequiredService<ResourceLoggerService>();
        var text = new StringBuilder();
        foreach (var name in ResourceNames)
        {
            var state = app.ResourceNotifications.TryGetCurrentState(name, out var resourceEvent)
                ? $"{resourceEvent.Snapshot.State?.Text} health={resourceEvent.Snapshot.HealthStatus}"
                : "unknown";
            text.AppendLine($"--- {name}: {state}");

            var lines = new List<string>();
            using var cancellation = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            try
            {
                await foreach (var batch in loggers.GetAllAsync(name).WithCancellation(cancellation.Token))
                {
                    lines.AddRange(batch.Select(line => line.Content));
                }
            }
            catch (OperationCanceledException)
            {
                lines.Add("(log read timed out)");
            }

            foreach (var line in lines.TakeLast(40))
            {
                text.AppendLine(line);
            }
        }

        return text.ToString();
    }
}
