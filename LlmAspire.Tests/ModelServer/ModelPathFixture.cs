using System.Text;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using LlmAspire.Tests.AppHost;
using LlmAspire.Tests.Inference;
using LlmAspire.Tests.Inference.Hub;
using Microsoft.Extensions.DependencyInjection;

namespace LlmAspire.Tests.ModelServer;

/// <summary>
/// Real model server processes, run by the AppHost under Aspire's testing builder, whose model path is an <c>hf:</c>
/// reference, each with its own cache folder: the AppHost's <c>modelserver-0</c> (<c>LlmAspire:ModelPath</c> set to
/// the reference) against <see cref="FakeHub"/> serving stories260K from ../shared, one against an endpoint where
/// nothing listens, and one naming a repository the hub does not have.
/// </summary>
public sealed class ModelPathFixture : IAsyncLifetime
{
    /// <summary>The AppHost's model server, given hf:karpathy/tinyllamas/stories260K, against the fake hub.</summary>
    public const string Reachable = "modelserver-0";

    /// <summary>The same reference, with the hub unreachable.</summary>
    public const string Unreachable = "modelserver-nohub";

    /// <summary>A misspelt repository on the reachable hub.</summary>
    public const string Misspelt = "modelserver-typo";

    public const string Reference = "hf:karpathy/tinyllamas/stories260K";

    public const string MisspeltReference = "hf:karpathy/tinyllamaz/stories260K";

    /// <summary>The bound on start-up: the unreachable server spends ~15 s in the HttpClient's retries before falling back.</summary>
    public static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(3);

    private static readonly TimeSpan s_stopTimeout = TimeSpan.FromMinutes(1);

    private readonly Inference.TempDirectory _caches = TestPaths.CreateTempDirectory();
    private FakeHub? _hub;
    private DistributedApplication? _app;

    public DistributedApplication App => _app ?? throw new InvalidOperationException("The model servers have not started.");

    internal FakeHub Hub => _hub ?? throw new InvalidOperationException("The fake hub has not started.");

    /// <summary>The cache folder of model server <paramref name="name"/>.</summary>
    public string CacheDirectory(string name) => Path.Combine(_caches.Path, name);

    public HttpClient CreateClient(string name) =>
        new() { BaseAddress = App.GetEndpoint(name, "http"), Timeout = TimeSpan.FromMinutes(2) };

    public async Task InitializeAsync()
    {
        if (!File.Exists(TestPaths.Stories260KCheckpoint) || !File.Exists(TestPaths.Stories260KTokenizer))
        {
            // Every test of the class is a Stories260KFact, skipped with the reason; start nothing.
            return;
        }

        using var cancellation = new CancellationTokenSource(StartTimeout);
        var cancellationToken = cancellation.Token;
        _hub = await FakeHub.StartWithTinyLlamasAsync().WaitAsync(StartTimeout, cancellationToken);

        // The AppHost's own topology with one model server given the hub reference (as a user would configure it),
        // pointed at the fake hub; plus two more servers built the same way for the failure cases.
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.LlmAspire_AppHost>(
            [
                "LlmAspire:RedisMode=executable",
                $"LlmAspire:ModelPath={Reference}",
                "LlmAspire:ModelServers=1",
                "LlmAspire:GatewayPort=0",
            ],
            cancellationToken).WaitAsync(StartTimeout, cancellationToken);
        ConfigureHub(builder.CreateResourceBuilder<ProjectResource>(Reachable), _hub.Endpoint);
        ConfigureHub(AddModelServer(builder, Unreachable, Reference), HubTestModels.ClosedEndpoint());
        ConfigureHub(AddModelServer(builder, Misspelt, MisspeltReference), _hub.Endpoint);

        _app = await builder.BuildAsync(cancellationToken).WaitAsync(StartTimeout, cancellationToken);
        await _app.StartAsync(cancellationToken).WaitAsync(StartTimeout, cancellationToken);
        try
        {
            await Task.WhenAll(
                _app.ResourceNotifications.WaitForResourceHealthyAsync(Reachable, cancellationToken),
                _app.ResourceNotifications.WaitForResourceHealthyAsync(Unreachable, cancellationToken))
                .WaitAsync(StartTimeout, cancellationToken);
        }
        catch (Exception exception) when (exception is OperationCanceledException or TimeoutException)
        {
            throw new TimeoutException(
                $"The model servers did not become healthy within {StartTimeout}.{Environment.NewLine}{await DescribeAsync(_app)}", exception);
        }
    }

    public async Task DisposeAsync()
    {
        try
        {
            await AppShutdown.StopAsync(_app, s_stopTimeout);
        }
        finally
        {
            if (_hub is not null)
            {
                await _hub.DisposeAsync();
            }

            _caches.Dispose();
        }
    }

    /// <summary>The resource's log lines so far.</summary>
    public async Task<IReadOnlyList<string>> LogsAsync(string name)
    {
        var loggers = App.Services.GetRequiredService<ResourceLoggerService>();
        var lines = new List<string>();
        using var cancellation = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await foreach (var batch in loggers.GetAllAsync(Resource(name)).WithCancellation(cancellation.Token))
        {
            lines.AddRange(batch.Select(line => line.Content));
        }

        return lines;
    }

    /// <summary>Waits until the resource logs a line containing <paramref name="text"/>, and returns that line.</summary>
    public async Task<string> WaitForLogAsync(string name, string text, TimeSpan timeout)
    {
        var loggers = App.Services.GetRequiredService<ResourceLoggerService>();
        using var cancellation = new CancellationTokenSource(timeout);
        try
        {
            await foreach (var batch in loggers.WatchAsync(Resource(name)).WithCancellation(cancellation.Token))
            {
                if (batch.FirstOrDefault(line => line.Content.Contains(text, StringComparison.Ordinal)) is { } match)
                {
                    return match.Content;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Reported below with the logs so far.
        }

        throw new TimeoutException(
            $"{name} did not log '{text}' within {timeout}:{Environment.NewLine}{string.Join(Environment.NewLine, await LogsAsync(name))}");
    }

    /// <summary>
    /// The resource named <paramref name="name"/>: logs are read through it, since DCP runs a project under a
    /// suffixed id and the string overloads of <see cref="ResourceLoggerService"/> take that id, not the name.
    /// </summary>
    private IResource Resource(string name) =>
        App.Services.GetRequiredService<DistributedApplicationModel>().Resources.Single(resource => resource.Name == name);

    /// <summary>A model server as the AppHost adds one (own endpoint, /health check), serving <paramref name="modelPath"/>.</summary>
    private static IResourceBuilder<ProjectResource> AddModelServer(IDistributedApplicationTestingBuilder builder, string name, string modelPath) =>
        builder.AddProject<Projects.LlmAspire_ModelServer>(name, options => options.ExcludeLaunchProfile = true)
            .WithHttpEndpoint()
            .WithHttpHealthCheck("/health")
            .WithEnvironment("ModelServer__ModelPath", modelPath);

    /// <summary>Points the server at <paramref name="hubEndpoint"/>, with a cache folder of its own.</summary>
    private void ConfigureHub(IResourceBuilder<ProjectResource> server, Uri hubEndpoint) =>
        server
            .WithEnvironment("ModelServer__HubEndpoint", hubEndpoint.ToString())
            .WithEnvironment("ModelServer__CacheDirectory", CacheDirectory(server.Resource.Name))
            .WithEnvironment("ModelServer__ExecutionProvider", "cpu");

    private async Task<string> DescribeAsync(DistributedApplication app)
    {
        var text = new StringBuilder();
        foreach (var name in new[] { Reachable, Unreachable, Misspelt })
        {
            var state = app.ResourceNotifications.TryGetCurrentState(name, out var resourceEvent)
                ? $"{resourceEvent.Snapshot.State?.Text} health={resourceEvent.Snapshot.HealthStatus}"
                : "unknown";
            text.AppendLine($"--- {name}: {state}");
            foreach (var line in (await LogsAsync(name)).TakeLast(40))
            {
                text.AppendLine(line);
            }
        }

        return text.ToString();
    }
}
