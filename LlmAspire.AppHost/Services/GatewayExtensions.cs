using System.Security.Cryptography;
using System.Text;

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
    /// Sets <c>Gateway:Cache:Revision</c> from what the model servers serve, so cached answers of one model never
    /// answer for another served under the same id: the reference itself, and for a local folder also the size and
    /// time of its graph (a re-converted folder is a new revision). Hashed: paths stay out of cache keys and logs.
    /// </summary>
    internal static IResourceBuilder<ProjectResource> WithCacheRevision(this IResourceBuilder<ProjectResource> gateway, string modelPath)
    {
        string identity = modelPath;
        if (Directory.Exists(modelPath))
        {
            var graphs = new DirectoryInfo(modelPath).EnumerateFiles("*.onnx").OrderBy(file => file.Name, StringComparer.Ordinal);
            identity += string.Concat(graphs.Select(file => $"|{file.Name}:{file.Length}:{file.LastWriteTimeUtc.Ticks}"));
        }

        string revision = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(identity)))[..16];
        return gateway.WithEnvironment("Gateway__Cache__Revision", revision);
    }

    /// <summary>
    /// Makes every model server a destination of the gateway: lists their names in
    /// <c>Gateway:ModelServers</c>, references them for service discovery and waits until each is healthy.
    /// </summary>
    internal static IResourceBuilder<ProjectResource> WithModelServers(
        this IResourceBuilder<ProjectResource> gateway, IReadOnlyList<IResourceBuilder<IResourceWithEndpoints>> modelServers)
    {
        for (var index = 0; index < modelServers.Count; index++)
        {
            var server = modelServers[index];
            gateway
                .WithEnvironment($"Gateway__ModelServers__{index}", server.Resource.Name)
                .WithReference(server.GetEndpoint("http")).WaitFor(server);
        }

        return gateway;
    }

    /// <summary>
    /// Adds the gateway's API key as a secret parameter (<c>Parameters:{name}</c> in user secrets or configuration).
    /// Unset or empty means open mode, so F5 works without one; the gateway warns at start-up.
    /// </summary>
    internal static IResourceBuilder<ParameterResource> AddGatewayApiKey(this IDistributedApplicationBuilder builder, string name) =>
        builder.AddParameter(name, () => builder.Configuration[$"Parameters:{name}"] ?? string.Empty, secret: true)
            .WithDescription("The API key clients send to the gateway (Authorization: Bearer KEY). Empty: the gateway is open.");

    /// <summary>
    /// Gives the gateway the key. Run mode passes only its SHA-256 (<c>Gateway__Auth__KeyHashes__0</c>), so the key
    /// never appears in the gateway's environment or the dashboard; the published manifest references the secret
    /// parameter as <c>Gateway__Auth__Keys__0</c> and the gateway hashes it at start-up.
    /// </summary>
    internal static IResourceBuilder<ProjectResource> WithApiKey(
        this IResourceBuilder<ProjectResource> gateway, IResourceBuilder<ParameterResource> apiKey) =>
        gateway.WithEnvironment(async context =>
        {
            if (context.ExecutionContext.IsPublishMode)
            {
                context.EnvironmentVariables["Gateway__Auth__Keys__0"] = apiKey.Resource;
                return;
            }

            var key = await apiKey.Resource.GetValueAsync(context.CancellationToken);
            if (!string.IsNullOrEmpty(key))
            {
                context.EnvironmentVariables["Gateway__Auth__KeyHashes__0"] =
                    Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
            }
        });
}
