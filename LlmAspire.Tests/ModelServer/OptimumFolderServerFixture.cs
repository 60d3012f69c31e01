using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using LlmAspire.Inference.Models.Exports;
using LlmAspire.Tests.AppHost;
using LlmAspire.Tests.Inference;
using Microsoft.Extensions.DependencyInjection;

namespace LlmAspire.Tests.ModelServer;

/// <summary>
/// The AppHost's topology with one model server whose <c>LlmAspire:ModelPath</c> is stories260K exported as Optimum does
/// (config.json + model.onnx of standard operators, no genai_config.json), so it serves on the per-sequence path.
/// </summary>
public sealed class OptimumFolderServerFixture : IAsyncLifetime
{
    /// <summary>The model id: the folder's name.</summary>
    public const string ModelId = "stories260K-optimum";

    /// <summary>The one model server.</summary>
    public const string Server = "modelserver-0";

    private static readonly TimeSpan s_startTimeout = TimeSpan.FromMinutes(3);
    private static readonly TimeSpan s_stopTimeout = TimeSpan.FromMinutes(1);

    private readonly Inference.TempDirectory _temp = TestPaths.CreateTempDirectory();
    private DistributedApplication? _app;

    public DistributedApplication App => _app ?? throw new InvalidOperationException("The model server has not started.");

    public HttpClient CreateClient() => new() { BaseAddress = App.GetEndpoint(Server, "http"), Timeout = TimeSpan.FromMinutes(2) };

    public async Task InitializeAsync()
    {
        if (!File.Exists(TestPaths.Stories260KCheckpoint) || !File.Exists(TestPaths.Stories260KTokenizer))
        {
            // Every test of the class is a Stories260KFact and skips, saying why; start nothing.
            return;
        }

        using var cancellation = new CancellationTokenSource(s_startTimeout);
        var cancellationToken = cancellation.Token;
        string folder = Path.Combine(_temp.Path, ModelId);
        DecoderExportWriter.ConvertLlama2c(TestPaths.Stories260KCheckpoint, TestPaths.Stories260KTokenizer, folder, DecoderExportKind.Optimum);

        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.LlmAspire_AppHost>(
            [
                "LlmAspire:RedisMode=executable",
                $"LlmAspire:ModelPath={folder}",
                "LlmAspire:ModelServers=1",
                "LlmAspire:GatewayPort=0",
            ],
            cancellationToken).WaitAsync(s_startTimeout, cancellationToken);
        builder.CreateResourceBuilder<ProjectResource>(Server).WithEnvironment("ModelServer__ExecutionProvider", "cpu");
        _app = await builder.BuildAsync(cancellationToken).WaitAsync(s_startTimeout, cancellationToken);
        await _app.StartAsync(cancellationToken).WaitAsync(s_startTimeout, cancellationToken);
        await _app.ResourceNotifications.WaitForResourceHealthyAsync(Server, cancellationToken).WaitAsync(s_startTimeout, cancellationToken);
    }

    public async Task DisposeAsync()
    {
        try
        {
            await AppShutdown.StopAsync(_app, s_stopTimeout);
        }
        finally
        {
            _temp.Dispose();
        }
    }

    /// <summary>Waits until the server logs a line containing <paramref name="text"/>, and returns that line.</summary>
    public async Task<string> WaitForLogAsync(string text, TimeSpan timeout)
    {
        var loggers = App.Services.GetRequiredService<ResourceLoggerService>();
        IResource server = App.Services.GetRequiredService<DistributedApplicationModel>().Resources.Single(resource => resource.Name == Server);
        using var cancellation = new CancellationTokenSource(timeout);
        await foreach (var batch in loggers.WatchAsync(server).WithCancellation(cancellation.Token))
        {
            if (batch.FirstOrDefault(line => line.Content.Contains(text, StringComparison.Ordinal)) is { } match)
            {
                return match.Content;
            }
        }

        throw new TimeoutException($"{Server} did not log '{text}' within {timeout}.");
    }
}
