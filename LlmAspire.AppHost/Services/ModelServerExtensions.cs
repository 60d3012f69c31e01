using System.Reflection;

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
    /// <param name="simulated">
    /// Whether the servers run the simulated engine (<c>ModelServer__Engine=simulated</c>) and load no model. Run
    /// locally, those are started as plain <c>dotnet LlmAspire.ModelServer.dll</c> processes (<see cref="AddSimulatedModelServer"/>);
    /// published, they stay projects, so a simulated fleet deploys like a real one.
    /// </param>
    internal static IReadOnlyList<IResourceBuilder<IResourceWithEndpoints>> AddModelServers(
        this IDistributedApplicationBuilder builder, int count, string? modelPath, bool simulated = false)
    {
        var servers = new List<IResourceBuilder<IResourceWithEndpoints>>(count);
        var bareProcesses = simulated && builder.ExecutionContext.IsRunMode;
        var assembly = bareProcesses ? ModelServerAssembly() : null;
        for (var index = 0; index < count; index++)
        {
            var name = ModelServerName(index);
            if (assembly is not null)
            {
                servers.Add(builder.AddSimulatedModelServer(name, assembly));
                continue;
            }

            var server = builder.AddModelServer(name);
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

    /// <summary>
    /// A simulated model server as a bare process: the built <c>LlmAspire.ModelServer.dll</c> run by <c>dotnet</c>.
    /// Aspire starts a project through <c>dotnet run --no-build</c>, an MSBuild evaluation and a second .NET process
    /// (~127 MiB) per server: with 64 servers that was most of the start-up and half the memory, and the fleet never
    /// came up (docs/BENCHMARKS.md, "Simulated fleets"). A simulated server needs nothing a project gives beyond its
    /// output, and holds no model, so it also runs with a small, non-concurrent workstation GC.
    /// </summary>
    private static IResourceBuilder<IResourceWithEndpoints> AddSimulatedModelServer(
        this IDistributedApplicationBuilder builder, string name, string assembly)
    {
        return builder.AddExecutable(name, "dotnet", Path.GetDirectoryName(assembly)!, assembly)
            .WithHttpEndpoint(env: "ASPNETCORE_HTTP_PORTS", isProxied: false)
            .WithHttpHealthCheck(HealthPath)
            .WithOtlpExporter()
            .WithEnvironment("ModelServer__Engine", LlmAspireSettings.SimulatedEngine)
            .WithEnvironment("DOTNET_gcServer", "0")
            .WithEnvironment("DOTNET_gcConcurrent", "0")
            .WithEnvironment("DOTNET_TieredPGO", "0")
            .WithAppHostEnvironment();
    }

    /// <summary>
    /// The model server's built assembly: the project's <c>bin/{configuration}/{framework}</c> of this AppHost's
    /// own build, which builds it first (it references the project).
    /// </summary>
    internal static string ModelServerAssembly()
    {
        var projectDirectory = Path.GetDirectoryName(new Projects.LlmAspire_ModelServer().ProjectPath)!;
        var configuration = typeof(ModelServerExtensions).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        var framework = Path.GetFileName(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory));
        var assembly = Path.Combine(projectDirectory, "bin", configuration, framework, "LlmAspire.ModelServer.dll");
        return File.Exists(assembly)
            ? assembly
            : throw new InvalidOperationException(
                $"LlmAspire:Engine=simulated runs the built model server, and there is none at {assembly}: build the solution ({configuration}) first.");
    }
}
