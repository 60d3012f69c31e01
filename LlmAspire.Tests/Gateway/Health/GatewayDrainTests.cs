using System.Net;
using System.Text;
using LlmAspire.Gateway.Routing;
using LlmAspire.Tests.AppHost;
using LlmAspire.Tests.Inference;
using LlmAspire.Tests.ModelServer;
using Microsoft.Extensions.DependencyInjection;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Model;
using static LlmAspire.Tests.Gateway.Routing.InProcessGateway;
using static LlmAspire.Tests.ModelServer.ModelServerHttp;

namespace LlmAspire.Tests.Gateway.Health;

/// <summary>
/// The gateway in front of two real model server processes, one of them draining after SIGTERM (held busy by a slow
/// client, <see cref="HeldResponse"/>): a request the gateway sends there gets 503 <c>shutting_down</c>, is retried on
/// the other server without the client seeing the refusal, and the draining server leaves rotation at once, so the
/// next request goes straight to the other; the draining server still ends its own response whole and exits 0.
/// </summary>
public sealed class GatewayDrainTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromMinutes(2);

    [Stories260KFact]
    public async Task AServerDrains_ItsRequestIsRetriedOnTheOther_ItLeavesRotationAtOnce_ItsOwnStreamEndsWhole()
    {
        using var temp = TestPaths.CreateTempDirectory();
        var folder = GracefulShutdownTests.ConvertStories260K(temp.Path);
        using var draining = ModelServerProcess.Start(folder, ("ModelServer__ShutdownGracePeriodSeconds", "300"));
        using var live = ModelServerProcess.Start(folder);
        using var drainingClient = await draining.WaitUntilHealthyAsync(s_timeout);
        (await live.WaitUntilHealthyAsync(s_timeout)).Dispose();
        await using var gateway = await StartAsync(
            new Dictionary<string, string?>
            {
                ["Gateway:ModelServers:0"] = "a-draining",
                ["Gateway:ModelServers:1"] = "b-live",
                ["Gateway:DefaultModel"] = AspireAppFixture.ModelId,
                // "a-draining" first while it is available; active probes out of the way, so only the 503 can eject it.
                ["Gateway:LoadBalancingPolicy"] = "FirstAlphabetical",
                ["Gateway:HealthCheckInterval"] = "01:00:00",
            },
            [("a-draining", draining.Address.ToString()), ("b-live", live.Address.ToString())]);
        using var client = gateway.CreateClient();
        using (var before = await PostCompletionAsync(client, GracefulShutdownTests.SmallCompletion))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
            Assert.Equal("a-draining", Assert.Single(before.Headers.GetValues("x-llmaspire-server")));
        }

        using var held = await HeldResponse.SendAsync(draining.Address, ChatCompletionsUri, GracefulShutdownTests.LargeChat(stream: true));
        draining.Terminate();
        await GracefulShutdownTests.WaitForReadinessAsync(drainingClient, HttpStatusCode.ServiceUnavailable);

        using (var retried = await PostCompletionAsync(client, GracefulShutdownTests.SmallCompletion))
        {
            Assert.Equal(HttpStatusCode.OK, retried.StatusCode);
            Assert.Equal("b-live", Assert.Single(retried.Headers.GetValues("x-llmaspire-server")));
            Assert.Equal("a-draining", Assert.Single(retried.Headers.GetValues("x-llmaspire-retried-from")));
            Assert.False(retried.Headers.Contains("Retry-After"));
        }

        var destination = gateway.Destination(ModelServerProxyConfig.ClusterId, "a-draining");
        Assert.Equal(DestinationHealth.Unhealthy, destination.Health.Passive);
        Assert.True(gateway.Services.GetRequiredService<IProxyStateLookup>().TryGetCluster(ModelServerProxyConfig.ClusterId, out var cluster));
        await WaitUntilAsync(() => !cluster.DestinationsState.AvailableDestinations.Contains(destination), s_timeout, "a-draining leaves rotation");
        using (var next = await PostCompletionAsync(client, GracefulShutdownTests.SmallCompletion))
        {
            Assert.Equal(HttpStatusCode.OK, next.StatusCode);
            Assert.Equal("b-live", Assert.Single(next.Headers.GetValues("x-llmaspire-server")));
            Assert.False(next.Headers.Contains("x-llmaspire-retried-from"));
        }

        held.Release();
        GracefulShutdownTests.AssertWholeStream(Encoding.UTF8.GetString(await held.Body.WaitAsync(s_timeout)));
        var (exitCode, output) = await draining.WaitForExitAsync(s_timeout);
        Assert.True(exitCode == 0, $"exit code {exitCode}:\n{output}");
    }
}
