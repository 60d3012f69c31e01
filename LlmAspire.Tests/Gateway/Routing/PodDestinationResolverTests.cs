using System.Net;
using System.Net.Sockets;
using LlmAspire.Gateway.Routing;
using Microsoft.Extensions.Logging.Abstractions;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.ServiceDiscovery;

namespace LlmAspire.Tests.Gateway.Routing;

/// <summary>
/// <see cref="PodDestinationResolver"/> with a scripted lookup: which names it expands, how it names and addresses what
/// it resolves, and what stands when a lookup fails. The system resolver itself is exercised end to end by
/// <c>PodRoutingEndToEndTests</c> (through <c>/etc/hosts</c>).
/// </summary>
public sealed class PodDestinationResolverTests
{
    private static readonly IPAddress s_pod1 = IPAddress.Parse("10.1.0.11");
    private static readonly IPAddress s_pod2 = IPAddress.Parse("10.1.0.12");
    private static readonly IPAddress s_pod3 = IPAddress.Parse("10.1.0.13");

    private const string Headless = "http://modelserver-0.llmaspire.svc.cluster.local:8080";

    [Fact]
    public async Task Resolve_NameWithThreeAddresses_OneDestinationPerAddressNamedByItKeepingTheHostHeader()
    {
        var lookup = new ScriptedLookup { ["modelserver-0.llmaspire.svc.cluster.local"] = [s_pod2, s_pod1, s_pod3] };

        var resolved = await Resolver(lookup).ResolveDestinationsAsync(Destinations(("modelserver-0", Headless)), CancellationToken.None);

        Assert.Equal(
            ["modelserver-0/10.1.0.11", "modelserver-0/10.1.0.12", "modelserver-0/10.1.0.13"],
            resolved.Destinations.Keys.Order(StringComparer.Ordinal));
        var pod = resolved.Destinations["modelserver-0/10.1.0.12"];
        Assert.Equal("http://10.1.0.12:8080/", pod.Address);
        Assert.Equal("modelserver-0.llmaspire.svc.cluster.local:8080", pod.Host);
        Assert.Equal("modelserver-0/10.1.0.12", pod.Metadata![DestinationMetadata.ServerKey]);
        Assert.NotNull(resolved.ChangeToken);
    }

    [Fact]
    public async Task Resolve_AddressesInAnotherOrder_SameDestinationIds()
    {
        var lookup = new ScriptedLookup { ["pods.example"] = [s_pod1, s_pod2, s_pod3] };
        var resolver = Resolver(lookup);
        var destinations = Destinations(("pods", "http://pods.example:8080"));

        var first = await resolver.ResolveDestinationsAsync(destinations, CancellationToken.None);
        lookup["pods.example"] = [s_pod3, s_pod1, s_pod2];
        var second = await resolver.ResolveDestinationsAsync(destinations, CancellationToken.None);

        Assert.Equal(first.Destinations.Keys.Order(StringComparer.Ordinal), second.Destinations.Keys.Order(StringComparer.Ordinal));
        Assert.All(second.Destinations, pair => Assert.EndsWith(new Uri(pair.Value.Address).Host, pair.Key, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Resolve_AnAddressGoneAndOneNew_TheSetFollowsTheName()
    {
        var lookup = new ScriptedLookup { ["pods.example"] = [s_pod1, s_pod2] };
        var resolver = Resolver(lookup);
        var destinations = Destinations(("pods", "http://pods.example:8080"));
        await resolver.ResolveDestinationsAsync(destinations, CancellationToken.None);

        lookup["pods.example"] = [s_pod2, s_pod3];
        var resolved = await resolver.ResolveDestinationsAsync(destinations, CancellationToken.None);

        Assert.Equal(["pods/10.1.0.12", "pods/10.1.0.13"], resolved.Destinations.Keys.Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("http://localhost:5100")]
    [InlineData("http://127.0.0.1:5100")]
    [InlineData("http://[::1]:5100")]
    [InlineData("http://10.0.0.7:8080")]
    [InlineData("http://app.localhost:5100")]
    public async Task Resolve_IpLiteralOrLocalhost_StaysOneDestinationWithoutALookup(string address)
    {
        var lookup = new ScriptedLookup();

        var resolved = await Resolver(lookup).ResolveDestinationsAsync(Destinations(("server", address)), CancellationToken.None);

        Assert.Equal(address, Assert.Single(resolved.Destinations, pair => pair.Key == "server").Value.Address);
        Assert.Empty(lookup.Asked);
        Assert.Null(resolved.ChangeToken);
    }

    [Fact]
    public async Task Resolve_LookupFailsAfterSucceeding_KeepsTheAddressesLastKnown()
    {
        var lookup = new ScriptedLookup { ["pods.example"] = [s_pod1, s_pod2] };
        var resolver = Resolver(lookup);
        var destinations = Destinations(("pods", "http://pods.example:8080"));
        var before = await resolver.ResolveDestinationsAsync(destinations, CancellationToken.None);

        lookup.Fail("pods.example");
        var after = await resolver.ResolveDestinationsAsync(destinations, CancellationToken.None);

        Assert.Equal(2, after.Destinations.Count);
        Assert.Equal(before.Destinations.Keys.Order(StringComparer.Ordinal), after.Destinations.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Resolve_NameNeverResolved_StaysOneDestinationAsConfiguredAndIsTriedAgain()
    {
        var lookup = new ScriptedLookup();
        lookup.Fail("nowhere.example");
        var resolver = Resolver(lookup);

        var resolved = await resolver.ResolveDestinationsAsync(Destinations(("server", "http://nowhere.example:8080")), CancellationToken.None);

        Assert.Equal("http://nowhere.example:8080", Assert.Single(resolved.Destinations, pair => pair.Key == "server").Value.Address);
        Assert.NotNull(resolved.ChangeToken);
    }

    [Fact]
    public async Task Resolve_DualStackName_OnlyItsIpv4AddressesSoEachPodIsOneDestination()
    {
        var lookup = new ScriptedLookup { ["pods.example"] = [IPAddress.Parse("fd00::11"), s_pod1, IPAddress.Parse("fd00::12"), s_pod2] };

        var resolved = await Resolver(lookup).ResolveDestinationsAsync(Destinations(("pods", "http://pods.example:8080")), CancellationToken.None);

        Assert.Equal(["pods/10.1.0.11", "pods/10.1.0.12"], resolved.Destinations.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Resolve_Ipv6OnlyName_BracketedAddresses()
    {
        var lookup = new ScriptedLookup { ["pods.example"] = [IPAddress.Parse("fd00::11")] };

        var resolved = await Resolver(lookup).ResolveDestinationsAsync(Destinations(("pods", "http://pods.example:8080/base")), CancellationToken.None);

        var pod = Assert.Single(resolved.Destinations);
        Assert.Equal("pods/fd00::11", pod.Key);
        Assert.Equal("http://[fd00::11]:8080/base", pod.Value.Address);
    }

    [Fact]
    public async Task Resolve_RefreshOff_EveryServerAsServiceDiscoveryResolvedIt()
    {
        var lookup = new ScriptedLookup { ["pods.example"] = [s_pod1, s_pod2] };
        var resolver = Resolver(lookup, new RoutingOptions { DnsRefreshInterval = TimeSpan.Zero });

        var resolved = await resolver.ResolveDestinationsAsync(Destinations(("pods", "http://pods.example:8080")), CancellationToken.None);

        Assert.Equal("pods", Assert.Single(resolved.Destinations).Key);
        Assert.Empty(lookup.Asked);
    }

    [Fact]
    public async Task Resolve_ChangeToken_FiresAfterTheRefreshInterval()
    {
        var lookup = new ScriptedLookup { ["pods.example"] = [s_pod1] };
        var resolver = Resolver(lookup, new RoutingOptions { DnsRefreshInterval = TimeSpan.FromMilliseconds(50) });

        var resolved = await resolver.ResolveDestinationsAsync(Destinations(("pods", "http://pods.example:8080")), CancellationToken.None);

        Assert.NotNull(resolved.ChangeToken);
        await InProcessGateway.WaitUntilAsync(() => resolved.ChangeToken.HasChanged, TimeSpan.FromSeconds(10), "the change token fires");
    }

    private static PodDestinationResolver Resolver(ScriptedLookup lookup, RoutingOptions? options = null) =>
        new(new AsConfigured(), lookup.LookupAsync, options ?? new RoutingOptions(), TimeProvider.System, NullLogger<PodDestinationResolver>.Instance);

    private static Dictionary<string, DestinationConfig> Destinations(params (string Id, string Address)[] servers) =>
        servers.ToDictionary(
            server => server.Id,
            server => new DestinationConfig
            {
                Address = server.Address,
                Metadata = new Dictionary<string, string> { [DestinationMetadata.ServerKey] = server.Id },
            });

    /// <summary>Service discovery where nothing is configured: every destination as it is.</summary>
    private sealed class AsConfigured : IDestinationResolver
    {
        public ValueTask<ResolvedDestinationCollection> ResolveDestinationsAsync(
            IReadOnlyDictionary<string, DestinationConfig> destinations, CancellationToken cancellationToken) =>
            ValueTask.FromResult(new ResolvedDestinationCollection(destinations, changeToken: null));
    }

    /// <summary>A DNS whose answers the test sets; a name it does not know, or told to fail, is not found.</summary>
    private sealed class ScriptedLookup : Dictionary<string, IPAddress[]>
    {
        public List<string> Asked { get; } = [];

        public void Fail(string host) => Remove(host);

        public Task<IPAddress[]> LookupAsync(string host, CancellationToken cancellationToken)
        {
            Asked.Add(host);
            return TryGetValue(host, out var addresses)
                ? Task.FromResult(addresses)
                : Task.FromException<IPAddress[]>(new SocketException((int)SocketError.HostNotFound));
        }
    }
}
