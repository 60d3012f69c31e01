using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using LlmAspire.Gateway.Auth;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace LlmAspire.Tests.AppHost;

/// <summary>What the AppHost hands the gateway: the <c>gateway-api-key</c> secret parameter only as a hash, and the cache revision.</summary>
public sealed class GatewayAuthParameterTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromMinutes(1);

    [Fact]
    public async Task ApiKeyParameter_Set_GatewayGetsOnlyItsHash()
    {
        const string Key = "sk-apphost-secret";
        var environment = await GatewayEnvironmentAsync($"Parameters:gateway-api-key={Key}");

        Assert.Equal(ApiKeyHasher.Hash(Key), environment["Gateway__Auth__KeyHashes__0"]);
        Assert.DoesNotContain(environment.Values, value => value.Contains(Key, StringComparison.Ordinal));
        Assert.False(environment.ContainsKey("Gateway__Auth__Keys__0"));
    }

    [Fact]
    public async Task ApiKeyParameter_Unset_GatewayIsOpen()
    {
        var environment = await GatewayEnvironmentAsync();

        Assert.False(environment.ContainsKey("Gateway__Auth__KeyHashes__0"));
        Assert.False(environment.ContainsKey("Gateway__Auth__Keys__0"));
    }

    [Fact]
    public async Task CacheRevision_FollowsTheModelServed()
    {
        using var temp = LlmAspire.Tests.Inference.TestPaths.CreateTempDirectory();
        File.WriteAllText(Path.Combine(temp.Path, "model.onnx"), "graph v1");
        string first = (await GatewayEnvironmentAsync($"LlmAspire:ModelPath={temp.Path}"))["Gateway__Cache__Revision"];
        string again = (await GatewayEnvironmentAsync($"LlmAspire:ModelPath={temp.Path}"))["Gateway__Cache__Revision"];
        File.WriteAllText(Path.Combine(temp.Path, "model.onnx"), "graph v2, re-converted");
        string reconverted = (await GatewayEnvironmentAsync($"LlmAspire:ModelPath={temp.Path}"))["Gateway__Cache__Revision"];
        string hub = (await GatewayEnvironmentAsync())["Gateway__Cache__Revision"];

        Assert.Equal(first, again);
        Assert.NotEqual(first, reconverted);
        Assert.NotEqual(first, hub);
        Assert.DoesNotContain(temp.Path, first, StringComparison.Ordinal);
    }

    private static async Task<Dictionary<string, string>> GatewayEnvironmentAsync(params string[] extraArguments)
    {
        using var cancellation = new CancellationTokenSource(s_timeout);
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.LlmAspire_AppHost>(
            ["LlmAspire:RedisMode=executable", "LlmAspire:GatewayPort=0", .. extraArguments],
            cancellation.Token).WaitAsync(s_timeout);
        await using var app = await builder.BuildAsync(cancellation.Token).WaitAsync(s_timeout);
        var gateway = builder.Resources.Single(resource => resource.Name == "gateway");
        var configuration = await ExecutionConfigurationBuilder.Create(gateway)
            .WithEnvironmentVariablesConfig()
            .BuildAsync(
                app.Services.GetRequiredService<DistributedApplicationExecutionContext>(),
                NullLogger.Instance,
                cancellation.Token)
            .WaitAsync(s_timeout);
        return configuration.EnvironmentVariables.ToDictionary(variable => variable.Key, variable => variable.Value);
    }
}
