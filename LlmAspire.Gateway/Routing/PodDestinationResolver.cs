using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Primitives;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.ServiceDiscovery;

namespace LlmAspire.Gateway.Routing;

/// <summary>
/// Makes every address behind a model server's DNS name its own YARP destination, so the load-balancing policies pick
/// a pod rather than a Service. A Kubernetes headless Service's name resolves to each ready pod; behind a ClusterIP
/// Service the gateway would see one destination and kube-proxy would spread the requests at random, undoing prefix
/// affinity and load awareness (llm-d and the Gateway API Inference Extension route to pods for the same reason).
/// </summary>
/// <remarks>
/// <para>
/// Service discovery resolves the configured servers first (Aspire's <c>services:{name}:*</c>, or an absolute URL as
/// it is); every result whose host is a DNS name, other than <c>localhost</c>, is then looked up through the system
/// resolver (so <c>/etc/hosts</c> counts) and becomes one destination per address, again each
/// <see cref="RoutingOptions.DnsRefreshInterval"/>. IP literals and <c>localhost</c> (the AppHost's servers) stay one
/// destination each. A name with IPv4 addresses gives only those, so a dual-stack pod is one destination, not two.
/// </para>
/// <para>
/// Each resolved destination is named after its address (<c>{destination}/{address}</c>), never its position in the
/// answer: a pod keeps its id, and with it its load readings, health and prefix-affinity keys, however the DNS server
/// orders or rotates its answer. YARP's own <c>DnsDestinationResolver</c> numbers them instead (<c>[0]</c>, <c>[1]</c>),
/// and as YARP's one destination resolver it would also replace service discovery; hence this one, which wraps it.
/// The <c>Host</c> header (and so TLS SNI) stays the name that was looked up, with its port (or a <c>Host</c> service
/// discovery set): the address only says where to connect. A lookup that fails or times out keeps the addresses last known for the name (a DNS hiccup must not
/// empty a cluster); a name never resolved stays one destination, as configured.
/// </para>
/// </remarks>
internal sealed partial class PodDestinationResolver(
    IDestinationResolver serviceDiscovery,
    Func<string, CancellationToken, Task<IPAddress[]>> lookup,
    RoutingOptions options,
    TimeProvider timeProvider,
    ILogger<PodDestinationResolver> logger) : IDestinationResolver
{
    /// <summary>How long one lookup may take before the addresses last known for the name stand.</summary>
    public static readonly TimeSpan LookupTimeout = TimeSpan.FromSeconds(5);

    private readonly ConcurrentDictionary<string, IPAddress[]> _lastKnown = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, bool> _failing = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The system resolver: <c>getaddrinfo</c> on Linux, which reads <c>/etc/hosts</c> before DNS.</summary>
    public static Task<IPAddress[]> SystemLookup(string host, CancellationToken cancellationToken) =>
        Dns.GetHostAddressesAsync(host, cancellationToken);

    /// <inheritdoc/>
    public async ValueTask<ResolvedDestinationCollection> ResolveDestinationsAsync(
        IReadOnlyDictionary<string, DestinationConfig> destinations, CancellationToken cancellationToken)
    {
        var discovered = await serviceDiscovery.ResolveDestinationsAsync(destinations, cancellationToken);
        if (options.DnsRefreshInterval <= TimeSpan.Zero
            || !discovered.Destinations.Values.Any(config => HostName(config) is not null))
        {
            return discovered;
        }

        var lookups = discovered.Destinations.Values
            .Select(HostName)
            .OfType<string>()
            .Distinct(StringComparer.OrdinalIgnoreCase)
            .ToDictionary(host => host, host => LookupAsync(host, cancellationToken), StringComparer.OrdinalIgnoreCase);
        await Task.WhenAll(lookups.Values);

        var results = new Dictionary<string, DestinationConfig>(StringComparer.OrdinalIgnoreCase);
        foreach (var (destinationId, config) in discovered.Destinations)
        {
            if (HostName(config) is not { } host || await lookups[host] is not { } addresses)
            {
                results[destinationId] = config;
                continue;
            }

            foreach (var address in addresses)
            {
                results[$"{destinationId}/{address}"] = ForAddress(destinationId, config, address);
            }
        }

        // The timer's source is not disposed: it disposes its timer when it fires, as YARP's DNS resolver relies on.
        var refresh = new CancellationChangeToken(new CancellationTokenSource(options.DnsRefreshInterval, timeProvider).Token);
        IChangeToken changeToken = discovered.ChangeToken is { } discoveryToken ? new CompositeChangeToken([discoveryToken, refresh]) : refresh;
        return new ResolvedDestinationCollection(results, changeToken);
    }

    /// <summary>The DNS name a destination's address names; null for an IP literal, <c>localhost</c> or a bad address.</summary>
    internal static string? HostName(DestinationConfig config) =>
        Uri.TryCreate(config.Address, UriKind.Absolute, out var uri)
        && uri.HostNameType == UriHostNameType.Dns
        && !uri.IsLoopback
        && !uri.DnsSafeHost.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase)
            ? uri.DnsSafeHost
            : null;

    /// <summary>The addresses to route to: the IPv4 ones where there are any, else the IPv6 ones; each once, in order.</summary>
    internal static IPAddress[] OneFamily(IEnumerable<IPAddress> addresses)
    {
        var distinct = addresses.Select(address => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address).Distinct().ToList();
        var family = distinct.Any(address => address.AddressFamily == AddressFamily.InterNetwork)
            ? AddressFamily.InterNetwork
            : AddressFamily.InterNetworkV6;
        return [.. distinct.Where(address => address.AddressFamily == family).OrderBy(address => address.ToString(), StringComparer.Ordinal)];
    }

    private static DestinationConfig ForAddress(string destinationId, DestinationConfig config, IPAddress address)
    {
        var uri = new Uri(config.Address);
        var server = config.Metadata is { } metadata && metadata.TryGetValue(DestinationMetadata.ServerKey, out var name) ? name : destinationId;
        return config with
        {
            Address = WithHost(config.Address, address),
            Health = config.Health is { Length: > 0 } health ? WithHost(health, address) : config.Health,
            Host = config.Host is { Length: > 0 } host ? host : uri.Authority,
            Metadata = new Dictionary<string, string>(config.Metadata ?? new Dictionary<string, string>(), StringComparer.Ordinal)
            {
                [DestinationMetadata.ServerKey] = $"{server}/{address}",
            },
        };
    }

    private static string WithHost(string address, IPAddress ip) =>
        new UriBuilder(address) { Host = ip.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{ip}]" : ip.ToString() }.Uri.ToString();

    private async Task<IPAddress[]?> LookupAsync(string host, CancellationToken cancellationToken)
    {
        try
        {
            var addresses = OneFamily(await lookup(host, cancellationToken).WaitAsync(LookupTimeout, timeProvider, cancellationToken));
            if (addresses.Length > 0)
            {
                var previous = _lastKnown.GetValueOrDefault(host);
                _lastKnown[host] = addresses;
                _failing.TryRemove(host, out _);
                if (previous is null || !previous.SequenceEqual(addresses))
                {
                    LogResolved(logger, host, addresses.Length, string.Join(", ", addresses.Select(address => address.ToString())));
                }

                return addresses;
            }
        }
        catch (Exception exception) when (exception is SocketException or TimeoutException
            || (exception is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            if (_failing.TryAdd(host, true))
            {
                LogLookupFailed(logger, host, exception.Message, _lastKnown.TryGetValue(host, out var kept) ? kept.Length : 0);
            }
        }

        return _lastKnown.GetValueOrDefault(host);
    }

    [LoggerMessage(LogLevel.Information, "Model server name {Host} resolves to {Count} address(es), one destination each: {Addresses}")]
    private static partial void LogResolved(ILogger logger, string host, int count, string addresses);

    [LoggerMessage(LogLevel.Warning, "Looking up model server name {Host} failed ({Reason}); keeping the {Count} address(es) last known (none: the name stays one destination).")]
    private static partial void LogLookupFailed(ILogger logger, string host, string reason, int count);
}
