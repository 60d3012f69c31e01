using LlmAspire.Gateway.Health;
using LlmAspire.Gateway.Telemetry;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.LoadBalancing;
using Yarp.ReverseProxy.ServiceDiscovery;
using Yarp.ReverseProxy.Transforms;
using LlmAspire.Gateway.Catalog;
using LlmAspire.Gateway.LoadBalancing;
using LlmAspire.Gateway.LoadPolling;

namespace LlmAspire.Gateway.Routing;

/// <summary>Registers and maps the reverse proxy in front of the model servers.</summary>
public static class ModelServerProxyExtensions
{
    /// <summary>
    /// Binds <see cref="GatewayOptions"/> (validated on start) and configures YARP in code: a cluster per model, the
    /// LLM-aware load-balancing policies and the <c>/metrics</c> reader they use, passive health, the model catalog,
    /// each model server's address resolved through service discovery and then to every address its DNS name has
    /// (<see cref="PodDestinationResolver"/>), and the client that bounds every wait on a server
    /// (<see cref="ModelServerHttpClientFactory"/>).
    /// </summary>
    public static TBuilder AddModelServerProxy<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddOptions<GatewayOptions>()
            .BindConfiguration(GatewayOptions.SectionName)
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<GatewayOptions>, GatewayOptionsValidator>());

        var options = builder.Configuration.GetSection(GatewayOptions.SectionName).Get<GatewayOptions>() ?? new GatewayOptions();
        services.AddSingleton(ModelRoutingTable.From(options));
        services.AddSingleton(options.Routing);
        services.AddSingleton(options.Health);
        services.AddSingleton(options.Timeouts);
        services.AddSingleton<ServerReachability>();
        services.AddSingleton<IForwarderHttpClientFactory, ModelServerHttpClientFactory>();
        services.TryAddSingleton(TimeProvider.System);
        services.AddGatewayTelemetry();

        services.AddSingleton<DestinationLoadStore>();
        services.AddSingleton<DestinationLoadScorer>();
        services.AddSingleton<ModelCatalog>();
        services.AddSingleton<ILoadBalancingPolicy>(provider =>
            new LoadAwareLoadBalancingPolicy(provider.GetRequiredService<DestinationLoadScorer>(), Random.Shared, options.Routing));
        services.AddSingleton<ILoadBalancingPolicy>(provider => new PrefixAffinityLoadBalancingPolicy(
            provider.GetRequiredService<DestinationLoadScorer>(),
            Random.Shared,
            options.Routing,
            provider.GetRequiredService<GatewayMetrics>()));
        services.AddHostedService<DestinationLoadPoller>();

        // The gateway's own calls to the servers (/metrics, /v1/models) are cheap and frequent: short timeouts, and no
        // retries or circuit breaker from the default resilience handler, so a slow server just reads as stale.
        // RemoveAllResilienceHandlers is marked experimental; it is the documented way to opt one client out of
        // ConfigureHttpClientDefaults' handler (a 3-retry pipeline and a client-wide circuit breaker).
#pragma warning disable EXTEXP0001
        services.AddHttpClient(DestinationLoadPoller.HttpClientName).RemoveAllResilienceHandlers();
#pragma warning restore EXTEXP0001

        services.Configure<TransportFailureRateHealthPolicyOptions>(failureRate =>
        {
            failureRate.DetectionWindowSize = options.Health.FailureWindow;
            failureRate.MinimalTotalCountThreshold = options.Health.MinimalRequests;
            failureRate.DefaultFailureRateLimit = options.Health.FailureRateLimit;
        });

        services.AddReverseProxy()
            .LoadFromMemory(ModelServerProxyConfig.CreateRoutes(options), ModelServerProxyConfig.CreateClusters(options))
            .AddServiceDiscoveryDestinationResolver()
            .AddPodDestinations(options.Routing)
            .AddTransforms(transforms =>
            {
                transforms.AddRequestHeaderRemove(ModelServerProxyConfig.ClusterHeader);
                transforms.AddRequestTransform(context =>
                {
                    UpstreamWatchdogHandler.MarkForwarded(context.ProxyRequest, context.HttpContext);
                    return ValueTask.CompletedTask;
                });
                transforms.AddResponseTransform(RetryOnAnotherServerMiddleware.HoldBackRetryableResponseAsync);
                if (!string.IsNullOrEmpty(options.Routing.ServerHeader))
                {
                    var header = options.Routing.ServerHeader;
                    transforms.AddResponseTransform(context =>
                    {
                        if (context.HttpContext.GetReverseProxyFeature().ProxiedDestination is { } destination)
                        {
                            context.HttpContext.Response.Headers[header] = DestinationMetadata.ServerName(destination);
                        }

                        return ValueTask.CompletedTask;
                    });
                }
            });

        return builder;
    }

    /// <summary>
    /// Wraps the destination resolver registered last (service discovery's) in <see cref="PodDestinationResolver"/>:
    /// YARP takes one resolver, so the per-address lookups run on what service discovery returns.
    /// </summary>
    private static IReverseProxyBuilder AddPodDestinations(this IReverseProxyBuilder proxy, RoutingOptions routing)
    {
        var services = proxy.Services;
        var inner = services.Last(descriptor => descriptor.ServiceType == typeof(IDestinationResolver));
        services.Remove(inner);
        services.AddSingleton<IDestinationResolver>(provider => new PodDestinationResolver(
            (IDestinationResolver)(inner.ImplementationInstance
                ?? inner.ImplementationFactory?.Invoke(provider)
                ?? ActivatorUtilities.CreateInstance(provider, inner.ImplementationType!)),
            PodDestinationResolver.SystemLookup,
            routing,
            provider.GetRequiredService<TimeProvider>(),
            provider.GetRequiredService<ILogger<PodDestinationResolver>>()));
        return proxy;
    }

    /// <summary>
    /// Maps the proxy's routes with its pipeline: the model's cluster is chosen from the request body, then a retry
    /// step wraps YARP's load balancing, passive health checks and forwarding.
    /// </summary>
    public static IEndpointRouteBuilder MapModelServerProxy(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapReverseProxy(proxy =>
        {
            proxy.UseMiddleware<ModelClusterSelectionMiddleware>();
            proxy.UseSessionAffinity();
            proxy.UseMiddleware<RetryOnAnotherServerMiddleware>();
            proxy.UseLoadBalancing();
            proxy.UsePassiveHealthChecks();
        });
        return endpoints;
    }
}
