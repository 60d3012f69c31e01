using LlmAspire.Gateway;
using LlmAspire.Gateway.Routing;
using Yarp.ReverseProxy.LoadBalancing;

namespace LlmAspire.Tests.Gateway;

public sealed class ModelServerProxyConfigTests
{
    [Fact]
    public void CreateRoutes_MatchesEveryV1PathToTheModelServerCluster()
    {
        var route = Assert.Single(ModelServerProxyConfig.CreateRoutes());

        Assert.Equal("/v1/{**catch-all}", route.Match.Path);
        Assert.Equal(ModelServerProxyConfig.ClusterId, route.ClusterId);
    }

    [Fact]
    public void CreateClusters_OneDestinationPerServer_ResolvedByServiceDiscovery()
    {
        var options = new GatewayOptions { ModelServers = ["modelserver-0", "modelserver-1", "http://localhost:5100"] };

        var cluster = Assert.Single(ModelServerProxyConfig.CreateClusters(options));

        Assert.Equal("modelservers", cluster.ClusterId);
        Assert.NotNull(cluster.Destinations);
        Assert.Equal("http://modelserver-0", cluster.Destinations["modelserver-0"].Address);
        Assert.Equal("http://modelserver-1", cluster.Destinations["modelserver-1"].Address);
        Assert.Equal("http://localhost:5100", cluster.Destinations["http://localhost:5100"].Address);
    }

    [Fact]
    public void CreateClusters_Defaults_AllowLongUnbufferedStreamsAndCheckHealth()
    {
        var cluster = Assert.Single(ModelServerProxyConfig.CreateClusters(new GatewayOptions { ModelServers = ["modelserver-0"] }));

        Assert.Equal(LoadBalancingPolicies.PowerOfTwoChoices, cluster.LoadBalancingPolicy);
        Assert.Equal(TimeSpan.FromMinutes(10), cluster.HttpRequest?.ActivityTimeout);
        Assert.False(cluster.HttpRequest?.AllowResponseBuffering);
        Assert.True(cluster.HealthCheck?.Active?.Enabled);
        Assert.Equal("/health", cluster.HealthCheck?.Active?.Path);
        Assert.True(cluster.HealthCheck?.Passive?.Enabled);
    }

    public static TheoryData<string[]> UnusableServerLists => new()
    {
        Array.Empty<string>(),
        new[] { "" },
        new[] { "modelserver-0", "MODELSERVER-0" },
    };

    [Theory]
    [MemberData(nameof(UnusableServerLists))]
    public void IsValid_UnusableServerList_IsRejected(string[] servers)
    {
        Assert.False(GatewayOptions.IsValid(new GatewayOptions { ModelServers = servers }));
    }

    [Fact]
    public void IsValid_UnknownPolicy_IsRejected()
    {
        Assert.False(GatewayOptions.IsValid(new GatewayOptions { ModelServers = ["a"], LoadBalancingPolicy = "Fastest" }));
        Assert.True(GatewayOptions.IsValid(new GatewayOptions { ModelServers = ["a"], LoadBalancingPolicy = "RoundRobin" }));
    }
}
