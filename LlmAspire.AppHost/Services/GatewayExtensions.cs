namespace LlmAspire.AppHost.Services;

internal static class GatewayExtensions
{
    /// <summary>The gateway's readiness path.</summary>
    internal const string HealthPath = "/health";

    /// <summary>Adds the gateway: the only resource with an external endpoint.</summary>
    /// <param name="builder">The AppHost builder.</param>
    /// <param name="name">The resource name.</param>
    /// <param name="port">The HTTP port; null lets the orchestrator choose.</param>
    internal static IResourceBuilder<ProjectResource> AddGateway(
        this IDistributedApplicationBuilder builder, string name, int? port) =>
        builder.AddProject<Projects.LlmAspire_Gateway>(name, options => options.ExcludeLaunchProfile = true)
            .WithHttpEndpoint(port: port)
            .WithExternalHttpEndpoints()
            .WithHttpHealthCheck(HealthPath)
            .WithAppHostEnvironment();

    /// <summary>
    /// Makes every model server a destination of the gateway: lists their names in
    /// <c>Gateway:ModelServers</c>, references them for service discovery and waits until each is healthy.
    /// </summary>
    internal static IResourceBuilder<ProjectResource> WithModelServers(
        this IResourceBuilder<ProjectResource> gateway, IReadOnlyList<IResourceBuilder<ProjectResource>> modelServers)
    {
        for (var index = 0; index < modelServers.Count; index++)
        {
            var server = modelServers[index];
            gateway
                .WithEnvironment($"Gateway__ModelServers__{index}", server.Resource.Name)
                .WithReference(server).WaitFor(server);
        }

        return gateway;
    }
}
