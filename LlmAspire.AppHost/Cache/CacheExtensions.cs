using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;

namespace LlmAspire.AppHost.Cache;

internal static class CacheExtensions
{
    /// <summary>
    /// Adds the Redis cache as the container or as <c>redis-server</c> (see <see cref="RedisModeSelector"/>),
    /// health-checked either way so that <c>WaitFor(cache)</c> returns once Redis answers. When the container runs on a
    /// runtime other than Aspire's default (Podman where Docker does not answer) and the user named none, Aspire is
    /// pointed at it through <c>ASPIRE_CONTAINER_RUNTIME</c>, which its orchestrator reads when the app starts.
    /// </summary>
    internal static IResourceBuilder<IResourceWithConnectionString> AddCache(
        this IDistributedApplicationBuilder builder, string name, RedisMode mode)
    {
        var configuredRuntime = ContainerRuntimeProbe.GetConfiguredRuntime(builder.Configuration);
        var plan = RedisModeSelector.Select(
            mode,
            builder.ExecutionContext.IsPublishMode,
            configuredRuntime,
            ContainerRuntimeProbe.Answers,
            runtime => ContainerRuntimeProbe.ImageAvailable(runtime, RedisModeSelector.RedisContainerImage),
            () => RedisModeSelector.FindOnPath(Environment.GetEnvironmentVariable("PATH")));

        if (plan.ContainerRuntime is { } runtime && configuredRuntime is null && runtime != ContainerRuntimeProbe.DefaultRuntimes[0])
        {
            builder.Configuration[ContainerRuntimeProbe.RuntimeKey] = runtime;
        }

        builder.Eventing.Subscribe<BeforeStartEvent>((@event, _) =>
        {
            @event.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(CacheExtensions).FullName!)
                .LogInformation("Redis '{Name}' runs as {Mode}: {Reason}", name, plan.Mode, plan.Reason);
            return Task.CompletedTask;
        });

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
