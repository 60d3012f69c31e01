using LlmAspire.ModelServer.Apis;
using LlmAspire.OpenAIApi;
using LlmAspire.ModelServer.Telemetry;
using LlmAspire.ModelServer.Telemetry.Prometheus;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace LlmAspire.ModelServer.Hosting;

/// <summary>
/// Registers the model server: options, the model's owner and loader, health and telemetry (the OpenTelemetry meter and
/// activity source, and vLLM's metrics on <see cref="VllmMetrics.Path"/>). The model check is Degraded while loading,
/// which ServiceDefaults' /health answers with 503; on SIGTERM the server drains (<see cref="GracefulShutdown"/>).
/// </summary>
internal static class ModelServerHostingExtensions
{
    public static IHostApplicationBuilder AddModelServer(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<ModelServerOptions>()
            .BindConfiguration(ModelServerOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();

        builder.Services.ConfigureHttpJsonOptions(json =>
        {
            json.SerializerOptions.TypeInfoResolverChain.Insert(0, OpenAIJsonContext.Default);
            json.SerializerOptions.Encoder = OpenAIJsonContext.Wire.Options.Encoder;
        });

        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<ModelServerTelemetry>();
        builder.Services.AddSingleton<VllmMetrics>();
        builder.Services.AddSingleton<ModelHost>();
        builder.Services.AddHostedService<ModelLoader>();
        builder.Services.AddHostedService<GracefulShutdown>();
        builder.Services.AddOptions<HostOptions>().Configure<IConfiguration>((host, configuration) =>
            host.ShutdownTimeout = GracefulShutdown.ShutdownTimeout(host.ShutdownTimeout, configuration));
        builder.Services.AddSingleton<CompletionServices>();

        builder.Services.AddHealthChecks().AddCheck<ModelHealthCheck>(ModelHealthCheck.Name);

        return builder;
    }

    /// <summary>Serves vLLM's metrics in the Prometheus text format on <see cref="VllmMetrics.Path"/>.</summary>
    public static IEndpointRouteBuilder MapVllmMetrics(this IEndpointRouteBuilder app)
    {
        app.MapGet(VllmMetrics.Path, static (VllmMetrics metrics) => TypedResults.Text(metrics.Render(), PrometheusText.ContentType))
            .WithName("GetMetrics")
            .ExcludeFromDescription();
        return app;
    }
}
