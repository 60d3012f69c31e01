using LlmAspire.OpenAIApi.Models;
using LlmAspire.Gateway;
using LlmAspire.Gateway.Routing;
using Yarp.ReverseProxy.Configuration;
using LlmAspire.Gateway.Catalog;
using LlmAspire.Gateway.LoadBalancing;

namespace LlmAspire.Tests.Gateway.Routing;

public sealed class ModelServerProxyConfigTests
{
    [Fact]
    public void CreateRoutes_OneServerList_CatchAllToItsClusterPlusAHeaderRoute()
    {
        var routes = ModelServerProxyConfig.CreateRoutes(new GatewayOptions { ModelServers = ["modelserver-0"] });

        var catchAll = Assert.Single(routes, route => route.RouteId == ModelServerProxyConfig.RouteId);
        Assert.Equal("/v1/{**catch-all}", catchAll.Match.Path);
        Assert.Equal(ModelServerProxyConfig.ClusterId, catchAll.ClusterId);
        Assert.Null(catchAll.Match.Headers);

        var headerRoute = Assert.Single(routes, route => route.RouteId != ModelServerProxyConfig.RouteId);
        Assert.Equal(ModelServerProxyConfig.RouteIdFor(ModelServerProxyConfig.ClusterId), headerRoute.RouteId);
        var header = Assert.Single(headerRoute.Match.Headers!);
        Assert.Equal(ModelServerProxyConfig.ClusterHeader, header.Name);
        Assert.Equal([ModelServerProxyConfig.ClusterId], header.Values);
        Assert.True(headerRoute.Order < catchAll.Order);
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
        Assert.Equal("modelserver-1", cluster.Destinations["modelserver-1"].Metadata![DestinationMetadata.ServerKey]);
        Assert.False(cluster.Metadata!.ContainsKey(DestinationMetadata.ModelKey));
    }

    [Fact]
    public void CreateClusters_Defaults_LoadAwareUnbufferedLongStreamsAndHealthChecks()
    {
        var cluster = Assert.Single(ModelServerProxyConfig.CreateClusters(new GatewayOptions { ModelServers = ["modelserver-0"] }));

        Assert.Equal(LlmLoadBalancingPolicies.LoadAware, cluster.LoadBalancingPolicy);
        Assert.Equal(TimeSpan.FromMinutes(10), cluster.HttpRequest?.ActivityTimeout);
        Assert.False(cluster.HttpRequest?.AllowResponseBuffering);
        Assert.True(cluster.HealthCheck?.Active?.Enabled);
        Assert.Equal("/health", cluster.HealthCheck?.Active?.Path);
        Assert.True(cluster.HealthCheck?.Passive?.Enabled);
        Assert.Equal("TransportFailureRate", cluster.HealthCheck?.Passive?.Policy);
        Assert.Equal(TimeSpan.FromSeconds(10), cluster.HealthCheck?.Passive?.ReactivationPeriod);
        Assert.Equal("0.3", cluster.Metadata!["TransportFailureRateHealthPolicy.RateLimit"]);
    }

    [Fact]
    public void CreateClusters_Models_OneClusterPerModelWithItsPolicy()
    {
        var options = new GatewayOptions
        {
            DefaultModel = "small",
            Models =
            {
                ["small"] = new ModelClusterOptions { Servers = ["small-0", "small-1"], Policy = LlmLoadBalancingPolicies.PrefixAffinity },
                ["big"] = new ModelClusterOptions { Servers = ["big-0"] },
            },
        };

        var clusters = ModelServerProxyConfig.CreateClusters(options);
        var routes = ModelServerProxyConfig.CreateRoutes(options);

        Assert.Equal(["model-small", "model-big"], clusters.Select(cluster => cluster.ClusterId));
        Assert.Equal(LlmLoadBalancingPolicies.PrefixAffinity, clusters[0].LoadBalancingPolicy);
        Assert.Equal(LlmLoadBalancingPolicies.LoadAware, clusters[1].LoadBalancingPolicy);
        Assert.Equal("small", clusters[0].Metadata![DestinationMetadata.ModelKey]);
        Assert.Equal(["small-0", "small-1"], clusters[0].Destinations!.Keys.Order());
        Assert.Equal("model-small", Assert.Single(routes, route => route.RouteId == ModelServerProxyConfig.RouteId).ClusterId);
        Assert.Equal(3, routes.Count);
    }

    [Fact]
    public void RoutingTable_DefaultCluster_FollowsTheConfiguration()
    {
        var legacy = ModelRoutingTable.From(new GatewayOptions
        {
            ModelServers = ["s"],
            Models = { ["other"] = new ModelClusterOptions { Servers = ["o"] } },
        });
        Assert.Equal("modelservers", legacy.DefaultClusterId);
        Assert.Null(legacy.DefaultCluster.Model);

        var named = ModelRoutingTable.From(new GatewayOptions
        {
            DefaultModel = "b",
            Models = { ["a"] = new ModelClusterOptions { Servers = ["a"] }, ["b"] = new ModelClusterOptions { Servers = ["b"] } },
        });
        Assert.Equal("model-b", named.DefaultClusterId);
        Assert.True(named.TryGetConfiguredCluster("a", out var a));
        Assert.Equal("model-a", a.ClusterId);
        Assert.False(named.TryGetConfiguredCluster("A", out _));

        var first = ModelRoutingTable.From(new GatewayOptions
        {
            Models = { ["zeta"] = new ModelClusterOptions { Servers = ["z"] }, ["alpha"] = new ModelClusterOptions { Servers = ["a"] } },
        });
        Assert.Equal("model-alpha", first.DefaultClusterId);
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
        Assert.True(GatewayOptions.IsValid(new GatewayOptions { ModelServers = ["a"], LoadBalancingPolicy = "prefixaffinity" }));
    }

    [Fact]
    public void Validate_ModelsWithoutServersOrWithUnknownPolicy_NamesTheKeys()
    {
        var failures = ModelServerProxyConfig.Validate(new GatewayOptions
        {
            DefaultModel = "missing",
            Models =
            {
                ["empty"] = new ModelClusterOptions(),
                ["odd"] = new ModelClusterOptions { Servers = ["o"], Policy = "Fastest" },
            },
        });

        Assert.Contains(failures, failure => failure.Contains("Gateway:Models:empty:Servers", StringComparison.Ordinal));
        Assert.Contains(failures, failure => failure.Contains("Gateway:Models:odd:Policy", StringComparison.Ordinal));
        Assert.Contains(failures, failure => failure.Contains("Gateway:DefaultModel", StringComparison.Ordinal));
        Assert.Empty(ModelServerProxyConfig.Validate(new GatewayOptions { Models = { ["m"] = new ModelClusterOptions { Servers = ["s"] } } }));
    }

    [Fact]
    public void Validate_BadRoutingAndHealthNumbers_AreRejected()
    {
        var options = new GatewayOptions { ModelServers = ["a"] };
        options.Routing.PrefixLength = 0;
        options.Routing.DnsRefreshInterval = TimeSpan.FromSeconds(-1);
        options.Health.FailureRateLimit = 1.5;

        var failures = ModelServerProxyConfig.Validate(options);

        Assert.Contains(failures, failure => failure.StartsWith("Gateway:Routing:PrefixLength", StringComparison.Ordinal));
        Assert.Contains(failures, failure => failure.StartsWith("Gateway:Routing:DnsRefreshInterval", StringComparison.Ordinal));
        Assert.Contains(failures, failure => failure.StartsWith("Gateway:Health:FailureRateLimit", StringComparison.Ordinal));
    }

    [Fact]
    public void ParseModelList_ToleratesExtraAndMissingFields()
    {
        using var document = System.Text.Json.JsonDocument.Parse("""
            {"object":"list","data":[
              {"id":"a","object":"model","created":17,"owned_by":"me","extra":[1]},
              {"id":"b"},
              {"id":""},
              {"created":"soon"},
              "junk"
            ]}
            """);

        var cards = ModelCatalog.ParseModelList(document.RootElement, defaultCreated: 5);

        Assert.Equal([new ModelCard("a", 17, "me"), new ModelCard("b", 5, ModelCatalog.ConfiguredOwner)], cards);
    }

    [Fact]
    public void RouteHeaderMatch_IsExact()
    {
        var route = ModelServerProxyConfig.CreateRoutes(new GatewayOptions { ModelServers = ["a"] })[1];
        Assert.Equal(HeaderMatchMode.ExactHeader, route.Match.Headers![0].Mode);
    }
}
