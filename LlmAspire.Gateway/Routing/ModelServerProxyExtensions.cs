namespace LlmAspire.Gateway.Routing;

/// <summary>Registers and maps the reverse proxy in front of the model servers.</summary>
public static class ModelServerProxyExtensions
{
    /// <summary>
    /// Binds <see cref="GatewayOptions"/> (validated on start) and configures YARP in code, resolving each
    /// model server's address through service discovery.
    /// </summary>
    public static TBuilder AddModelServerProxy<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddOptions<GatewayOptions>()
            .BindConfiguration(GatewayOptions.SectionName)
            .Validate(GatewayOptions.IsValid, GatewayOptions.ValidationMessage)
            .ValidateOnStart();

        var options = builder.Configuration.GetSection(GatewayOptions.SectionName).Get<GatewayOptions>() ?? new GatewayOptions();

        builder.Services.AddReverseProxy()
            .LoadFromMemory(ModelServerProxyConfig.CreateRoutes(), ModelServerProxyConfig.CreateClusters(options))
            .AddServiceDiscoveryDestinationResolver();

        return builder;
    }

    /// <summary>Maps the proxy's routes (with YARP's load balancing and passive health checks).</summary>
    public static IEndpointRouteBuilder MapModelServerProxy(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapReverseProxy();
        return endpoints;
    }
}
