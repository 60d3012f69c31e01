using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace LlmAspire.Tests.AppHost;

/// <summary>
/// The AppHost's model for <c>LlmAspire:Engine=simulated</c>: in run mode each server is the built model server run
/// by <c>dotnet</c> as a bare process (no <c>dotnet run</c> wrapper per server), still one named destination of the
/// gateway; ONNX servers stay projects. Built, not started.
/// </summary>
public sealed class SimulatedFleetAppModelTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromMinutes(1);

    [Fact]
    public async Task Simulated64_EveryServerIsTheBuiltAssemblyRunByDotnet_AndAGatewayDestination()
    {
        using var cancellation = new CancellationTokenSource(s_timeout);
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.LlmAspire_AppHost>(
            ["LlmAspire:RedisMode=executable", "LlmAspire:GatewayPort=0", "LlmAspire:Engine=simulated", "LlmAspire:ModelServers=64"],
            cancellation.Token).WaitAsync(s_timeout);
        await using var app = await builder.BuildAsync(cancellation.Token).WaitAsync(s_timeout);
        var context = app.Services.GetRequiredService<DistributedApplicationExecutionContext>();

        var servers = builder.Resources.Where(resource => IsModelServer(resource.Name)).ToList();
        Assert.Equal(64, servers.Count);
        Assert.All(servers, server => Assert.IsType<ExecutableResource>(server));

        var last = (ExecutableResource)servers.Single(server => server.Name == "modelserver-63");
        var configuration = await ExecutionConfigurationBuilder.Create(last)
            .WithArgumentsConfig()
            .WithEnvironmentVariablesConfig()
            .BuildAsync(context, NullLogger.Instance, cancellation.Token)
            .WaitAsync(s_timeout);
        var assembly = Assert.Single(configuration.Arguments).Value;
        var environment = configuration.EnvironmentVariables.ToDictionary(variable => variable.Key, variable => variable.Value);

        Assert.Equal("dotnet", last.Command);
        Assert.EndsWith("LlmAspire.ModelServer.dll", assembly, StringComparison.Ordinal);
        Assert.True(File.Exists(assembly), $"{assembly} does not exist.");
        Assert.Equal(Path.GetDirectoryName(assembly), last.WorkingDirectory);
        Assert.Equal("simulated", environment["ModelServer__Engine"]);
        Assert.Contains("ASPNETCORE_HTTP_PORTS", environment.Keys);
        Assert.True(last.TryGetAnnotationsOfType<HealthCheckAnnotation>(out _), "Each server needs its /health check for the gateway's WaitFor.");

        var gateway = builder.Resources.Single(resource => resource.Name == "gateway");
        var gatewayEnvironment = (await ExecutionConfigurationBuilder.Create(gateway)
            .WithEnvironmentVariablesConfig()
            .BuildAsync(context, NullLogger.Instance, cancellation.Token)
            .WaitAsync(s_timeout)).EnvironmentVariables.ToDictionary(variable => variable.Key, variable => variable.Value);
        Assert.Equal("modelserver-63", gatewayEnvironment["Gateway__ModelServers__63"]);
        Assert.Contains("services__modelserver-63__http__0", gatewayEnvironment.Keys);
        Assert.True(gateway.TryGetAnnotationsOfType<WaitAnnotation>(out var waits));
        Assert.Equal(64, waits.Count(wait => IsModelServer(wait.Resource.Name)));
    }

    [Fact]
    public async Task OnnxEngine_ServersStayProjects()
    {
        using var cancellation = new CancellationTokenSource(s_timeout);
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.LlmAspire_AppHost>(
            ["LlmAspire:RedisMode=executable", "LlmAspire:GatewayPort=0", "LlmAspire:ModelServers=3"],
            cancellation.Token).WaitAsync(s_timeout);

        var servers = builder.Resources.Where(resource => IsModelServer(resource.Name)).ToList();

        Assert.Equal(3, servers.Count);
        Assert.All(servers, server => Assert.IsType<ProjectResource>(server));
    }

    /// <summary><c>modelserver-N</c> itself, not a helper resource Aspire adds beside a project (e.g. <c>modelserver-0-rebuilder</c>).</summary>
    private static bool IsModelServer(string name) =>
        name.StartsWith("modelserver-", StringComparison.Ordinal) && int.TryParse(name.AsSpan("modelserver-".Length), out _);
}
