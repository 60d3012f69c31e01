using LlmAspire.ModelServer.Hosting;
using Microsoft.Extensions.Options;

namespace LlmAspire.ModelServer.Apis;

/// <summary>What the completion handler needs from DI, in one singleton.</summary>
internal sealed class CompletionServices(
    ModelHost host,
    GenerationQueue queue,
    ModelServerMetrics metrics,
    IOptions<ModelServerOptions> options,
    TimeProvider timeProvider,
    ILoggerFactory loggerFactory)
{
    public ModelHost Host { get; } = host;

    public GenerationQueue Queue { get; } = queue;

    public ModelServerMetrics Metrics { get; } = metrics;

    public ModelServerOptions Options { get; } = options.Value;

    public TimeProvider TimeProvider { get; } = timeProvider;

    public ILogger Logger { get; } = loggerFactory.CreateLogger(typeof(CompletionsApi).FullName!);
}
