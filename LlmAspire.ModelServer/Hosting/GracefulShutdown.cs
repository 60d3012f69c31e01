using Microsoft.Extensions.Options;

namespace LlmAspire.ModelServer.Hosting;

/// <summary>
/// Drains the model server when the host stops (SIGTERM): the moment <c>ApplicationStopping</c> fires, the server
/// refuses new generations (503 <c>shutting_down</c> with <c>Retry-After</c>, so a gateway retries elsewhere) and
/// <c>/health</c> reports unready; then, in <see cref="StoppingAsync"/>, it waits up to
/// <see cref="ModelServerOptions.ShutdownGracePeriodSeconds"/> for every generation response it admitted to end.
/// Lifecycle <c>StoppingAsync</c> runs before any hosted service's <c>StopAsync</c>, Kestrel's included, so the server
/// still accepts connections and writes responses throughout: a request on a kept-alive connection gets the 503 rather
/// than a closed socket. Only then does Kestrel stop and the model get disposed.
/// </summary>
internal sealed class GracefulShutdown(
    ModelHost host, IHostApplicationLifetime lifetime, IOptions<ModelServerOptions> options) : IHostedLifecycleService
{
    /// <summary>What the host's shutdown timeout must exceed the grace period by: Kestrel's own stop and the model's disposal.</summary>
    public static readonly TimeSpan ShutdownMargin = TimeSpan.FromSeconds(10);

    private CancellationTokenRegistration _stopping;

    /// <summary>
    /// The shutdown timeout the host needs for the configured grace period (never lowered). Read from the raw
    /// configuration, not the validated options: the host resolves its options before validation runs, and a bad value
    /// must fail as the options' validation words it, not here.
    /// </summary>
    public static TimeSpan ShutdownTimeout(TimeSpan configured, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var text = configuration[$"{ModelServerOptions.SectionName}:{nameof(ModelServerOptions.ShutdownGracePeriodSeconds)}"];
        var seconds = int.TryParse(text, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var parsed)
            ? Math.Clamp(parsed, 0, 3600)
            : new ModelServerOptions().ShutdownGracePeriodSeconds;
        var needed = TimeSpan.FromSeconds(seconds) + ShutdownMargin;
        return configured == Timeout.InfiniteTimeSpan || configured >= needed ? configured : needed;
    }

    public Task StartingAsync(CancellationToken cancellationToken)
    {
        _stopping = lifetime.ApplicationStopping.Register(static state => ((ModelHost)state!).BeginDrain(), host);
        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) =>
        host.DrainAsync(TimeSpan.FromSeconds(options.Value.ShutdownGracePeriodSeconds), cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken)
    {
        _stopping.Dispose();
        return Task.CompletedTask;
    }
}
