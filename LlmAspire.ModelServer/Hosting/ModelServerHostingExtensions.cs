using LlmAspire.ModelServer.Apis;
using LlmAspire.ModelServer.Contracts;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace LlmAspire.ModelServer.Hosting;

/// <summary>
/// Registers the model server: options, the model's owner and loader, the request queue, health and metrics.
/// The model check is Degraded while loading, which ServiceDefaults' /health answers with 503.
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
            json.SerializerOptions.TypeInfoResolverChain.Insert(0, ModelServerJsonContext.Default);
            json.SerializerOptions.Encoder = ModelServerJsonContext.Wire.Options.Encoder;
        });

        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<ModelServerMetrics>();
        builder.Services.AddSingleton<GenerationQueue>();
        builder.Services.AddSingleton<ModelHost>();
        builder.Services.AddHostedService<ModelLoader>();
        builder.Services.AddSingleton<CompletionServices>();

        builder.Services.AddHealthChecks().AddCheck<ModelHealthCheck>(ModelHealthCheck.Name);

        return builder;
    }
}
