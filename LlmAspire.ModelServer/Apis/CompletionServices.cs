using LlmAspire.ModelServer.Hosting;
using LlmAspire.ModelServer.Telemetry;
using Microsoft.Extensions.Options;

namespace LlmAspire.ModelServer.Apis;

/// <summary>What the completion handlers need from DI, in one singleton.</summary>
internal sealed class CompletionServices(
    ModelHost host,
    ModelServerTelemetry telemetry,
    IOptions<ModelServerOptions> options,
    TimeProvider timeProvider,
    ILoggerFactory loggerFactory)
{
    public ModelHost Host { get; } = host;

    public ModelServerTelemetry Telemetry { get; } = telemetry;

    public ModelServerOptions Options { get; } = options.Value;

    public TimeProvider TimeProvider { get; } = timeProvider;

    public ILogger Logger { get; } = loggerFactory.CreateLogger(typeof(GenerationRun).FullName!);
}
