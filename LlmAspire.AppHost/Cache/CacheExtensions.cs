using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace LlmAspire.AppHost.Cache;

internal static class CacheExtensions
{
    /// <summary>
    /// Adds the Redis cache as the container or as <c>redis-server</c> (see <see cref="RedisModeSelector"/>),
    /// health-checked either way so that <c>WaitFor(cache)</c> returns once Redis answers.
    /// </summary>
    internal static IResourceBuilder<IResourceWithConnectionString> AddCache(
        this IDistributedApplicationBuilder builder, string name, RedisMode mode)
    {
        var plan = RedisModeSelector.Select(
            mode,
            builder.ExecutionContext.IsPublishMode,
            () => ContainerRuntimeProbe.Answers(ContainerRuntimeProbe.GetRuntime(builder.Configuration)),
            () => RedisModeSelector.FindOnPath(Environment.GetEnvironmentVariable("PATH")));

        return plan.Mode == RedisMode.Container
            ? builder.AddRedis(name)
            : builder.AddRedisServer(name, plan.ExecutablePath!);
    }

    /// <summary>
    /// Runs <c>redis-server</c> on a port the orchestrator chooses, without persistence, bound to loopback.
    /// </summary>
    private static IResourceBuilder<RedisServerResource> AddRedisServer(
        this IDistributedApplicationBuilder builder, string name, string executablePath)
    {
        var resource = new RedisServerResource(name, executablePath, builder.AppHostDirectory);
        var healthCheckKey = $"{name}_check";
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
            healthCheckKey,
            _ => new RedisPingHealthCheck(resource.PrimaryEndpoint),
            failureStatus: null,
            tags: null));

        return builder.AddResource(resource)
            .WithEndpoint(name: RedisServerResource.PrimaryEndpointName, scheme: "tcp")
            .WithArgs(context =>
            {
                context.Args.Add("--port");
                context.Args.Add(resource.PrimaryEndpoint.Property(EndpointProperty.TargetPort));
                context.Args.Add("--bind");
                context.Args.Add("127.0.0.1");
                context.Args.Add("--save");
                context.Args.Add("");
                context.Args.Add("--appendonly");
                context.Args.Add("no");
            })
            .WithHealthCheck(healthCheckKey);
    }
}
