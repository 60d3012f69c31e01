namespace LlmAspire.AppHost.Services;

internal static class ModelServerExtensions
{
    /// <summary>The model server's readiness path: 200 once the model is loaded, 503 while loading.</summary>
    internal const string HealthPath = "/health";

    /// <summary>The name of model server <paramref name="index"/>: <c>modelserver-{index}</c>.</summary>
    internal static string ModelServerName(int index) => $"modelserver-{index}";

    /// <summary>
    /// Adds <c>modelserver-0</c> … <c>modelserver-{count-1}</c>: separate resources rather than replicas, since
    /// replicas share one proxy address and the gateway would see a single destination.
    /// </summary>
    /// <param name="builder">The AppHost builder.</param>
    /// <param name="count">How many servers.</param>
    /// <param name="modelPath">
    /// The model every server loads, a folder or an <c>hf:</c> reference; null for <see cref="LlmAspireSettings.DefaultModelPath"/>.
    /// </param>
    /// <param name="simulated">Whether the servers run the simulated engine (<c>ModelServer__Engine=simulated</c>) and load no model.</param>
    internal static IReadOnlyList<IResourceBuilder<ProjectResource>> AddModelServers(
        this IDistributedApplicationBuilder builder, int count, string? modelPath, bool simulated = false)
    {
        var servers = new List<IResourceBuilder<ProjectResource>>(count);
        for (var index = 0; index < count; index++)
        {
            var server = builder.AddModelServer(ModelServerName(index));
            servers.Add(simulated
                ? server.WithEnvironment("ModelServer__Engine", LlmAspireSettings.SimulatedEngine)
                : server.WithEnvironment("ModelServer__ModelPath", modelPath ?? LlmAspireSettings.DefaultModelPath));
        }

        return servers;
    }

    private static IResourceBuilder<ProjectResource> AddModelServer(this IDistributedApplicationBuilder builder, string name)
    {
        // The endpoint is declared here, not taken from a launch profile, so every server gets its own port. It is not
        // proxied: the gateway connects to the server process itself (DCP picks the port), so a server that dies resets
        // the gateway's connections at once. Through DCP's proxy they stayed open after a kill -9, and the requests on
        // them hung until the gateway's 10-minute ActivityTimeout. The published manifest is the same either way.
        // Servers started together share the hub cache; the first downloads and converts, the others wait for it.
        return builder.AddProject<Projects.LlmAspire_ModelServer>(name, options => options.ExcludeLaunchProfile = true)
            .WithHttpEndpoint(isProxied: false)
            .WithHttpHealthCheck(HealthPath)
            .WithAppHostEnvironment();
    }
}
