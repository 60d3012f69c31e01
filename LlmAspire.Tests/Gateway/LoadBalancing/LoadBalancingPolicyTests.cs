using LlmAspire.Gateway.Routing;
using Microsoft.Extensions.DependencyInjection;
using Yarp.ReverseProxy.LoadBalancing;
using static LlmAspire.Tests.Gateway.LoadBalancing.FakeDestinations;
using LlmAspire.Gateway.LoadBalancing;
using LlmAspire.Gateway.LoadPolling;

namespace LlmAspire.Tests.Gateway.LoadBalancing;

/// <summary>The load-aware and prefix-affinity policies over fake destination lists, with a manual clock and scripted randomness.</summary>
public sealed class LoadBalancingPolicyTests
{
    private readonly FakeDestinations _fake = new();

    private LoadAwareLoadBalancingPolicy LoadAware(Random? random = null) => new(_fake.Scorer, random ?? new ScriptedRandom(), _fake.Options);

    private PrefixAffinityLoadBalancingPolicy PrefixAffinity(Random? random = null) =>
        new(_fake.Scorer, random ?? new ScriptedRandom(), _fake.Options);

    [Fact]
    public void LoadAware_Readings_PicksFewestWaitingPlusRunning()
    {
        var destinations = Destinations("a", "b", "c");
        _fake.Read(destinations[0], running: 3, waiting: 1);
        _fake.Read(destinations[1], running: 1, waiting: 0);
        _fake.Read(destinations[2], running: 0, waiting: 2);

        Assert.Same(destinations[1], LoadAware().PickDestination(Request(), Cluster, destinations));
    }

    [Fact]
    public void LoadAware_RequestsSentSinceTheReading_CountOnTopOfIt()
    {
        var destinations = Destinations("a", "b");
        _fake.Read(destinations[0], running: 1);
        _fake.Read(destinations[1], running: 3);

        // Three requests went to "a" after it was read: 1 + 3 > 3.
        destinations[0].ConcurrentRequestCount = 3;

        Assert.Same(destinations[1], LoadAware().PickDestination(Request(), Cluster, destinations));
        Assert.Equal(4, _fake.Scorer.Score(destinations[0]));
    }

    [Fact]
    public void LoadAware_RequestsFinishedSinceTheReading_CountOff()
    {
        var a = Destination("a", inFlight: 2);
        var b = Destination("b");
        _fake.Read(a, running: 2);
        _fake.Read(b, running: 1);

        a.ConcurrentRequestCount = 0;

        Assert.Equal(0, _fake.Scorer.Score(a));
        Assert.Same(a, LoadAware().PickDestination(Request(), Cluster, [a, b]));
    }

    [Fact]
    public void LoadAware_FullKvCache_WeighsAsConfigured()
    {
        var destinations = Destinations("a", "b");
        _fake.Options.KvCacheWeight = 4;
        _fake.Read(destinations[0], running: 1, kvCache: 0.9);
        _fake.Read(destinations[1], running: 3, kvCache: 0.1);

        Assert.Equal(1 + (4 * 0.9), _fake.Scorer.Score(destinations[0]), 9);
        Assert.Equal(3 + (4 * 0.1), _fake.Scorer.Score(destinations[1]), 9);
        Assert.Same(destinations[1], LoadAware().PickDestination(Request(), Cluster, destinations));
    }

    [Fact]
    public void LoadAware_NoReadings_UsesTheGatewaysInFlightCounts()
    {
        var destinations = new[] { Destination("a", inFlight: 2), Destination("b", inFlight: 0), Destination("c", inFlight: 1) };

        Assert.Same(destinations[1], LoadAware().PickDestination(Request(), Cluster, destinations));
    }

    [Fact]
    public void LoadAware_ServerWithoutMetrics_IsJudgedByInFlightCount()
    {
        var a = Destination("a", inFlight: 1);
        var b = Destination("b", inFlight: 0);
        _fake.Read(a, running: 0);
        _fake.Store.Set(b, new DestinationLoadSample(ModelServerLoad.Unknown, _fake.Time.GetTimestamp(), 0));

        Assert.Equal(0, _fake.Scorer.Score(b));
        Assert.Equal(0, _fake.Scorer.Score(a)); // 0 running + (1 in flight - 1 at the reading)
    }

    [Fact]
    public void LoadAware_FailedReads_KeepTheLastReadingUntilItIsTooOld()
    {
        var a = Destination("a", inFlight: 1);
        _fake.Options.MetricsMaxAge = TimeSpan.FromSeconds(2);
        _fake.Read(a, running: 5, waiting: 2);

        _fake.Time.Advance(TimeSpan.FromSeconds(1));
        _fake.Store.RecordFailure(a);
        _fake.Store.RecordFailure(a);
        Assert.True(_fake.Store.TryGet(a, out var sample));
        Assert.Equal(2, sample.FailedReadsSince);
        Assert.Equal(7, _fake.Scorer.Score(a));

        _fake.Time.Advance(TimeSpan.FromSeconds(1.5));
        Assert.Equal(1, _fake.Scorer.Score(a));
    }

    [Fact]
    public void LoadAware_Ties_AreBrokenByTheInjectedRandom()
    {
        var destinations = Destinations("a", "b", "c");

        // Reservoir sampling: the second tie replaces the first when Next(2) is 0, the third when Next(3) is 0.
        Assert.Same(destinations[2], LoadAware(new ScriptedRandom(0, 0)).PickDestination(Request(), Cluster, destinations));
        Assert.Same(destinations[1], LoadAware(new ScriptedRandom(0, 1)).PickDestination(Request(), Cluster, destinations));
        Assert.Same(destinations[0], LoadAware(new ScriptedRandom(1, 1)).PickDestination(Request(), Cluster, destinations));
    }

    [Fact]
    public void LoadAware_IdleServers_ShareRequestsEvenly()
    {
        var destinations = Destinations("a", "b", "c");
        var policy = LoadAware(new Random(12345));
        var counts = new Dictionary<string, int> { ["a"] = 0, ["b"] = 0, ["c"] = 0 };

        for (var i = 0; i < 3000; i++)
        {
            counts[policy.PickDestination(Request(), Cluster, destinations)!.DestinationId]++;
        }

        Assert.All(counts.Values, count => Assert.InRange(count, 900, 1100));
    }

    [Fact]
    public void LoadAware_EquallyBusyServers_TakeTurnsOldestPickFirst()
    {
        // Each runs one request; their KV usage differs a little (how far each has prefilled), within the tie band.
        var destinations = Destinations("a", "b", "c");
        _fake.Options.LoadTieBand = 0.5;
        _fake.Read(destinations[0], running: 1, kvCache: 0.02);
        _fake.Read(destinations[1], running: 1, kvCache: 0.06);
        _fake.Read(destinations[2], running: 1, kvCache: 0.04);
        var policy = LoadAware(new Random(7));

        var firstThree = Enumerable.Range(0, 3).Select(_ => policy.PickDestination(Request(), Cluster, destinations)!.DestinationId).ToList();
        var nextThree = Enumerable.Range(0, 3).Select(_ => policy.PickDestination(Request(), Cluster, destinations)!.DestinationId).ToList();

        Assert.Equal(3, firstThree.Distinct().Count());
        Assert.Equal(firstThree, nextThree);
    }

    [Fact]
    public void LoadAware_ZeroTieBand_AlwaysTakesTheStrictlyLeastLoaded()
    {
        var destinations = Destinations("a", "b", "c");
        _fake.Options.LoadTieBand = 0;
        _fake.Read(destinations[0], running: 1, kvCache: 0.02);
        _fake.Read(destinations[1], running: 1, kvCache: 0.06);
        _fake.Read(destinations[2], running: 1, kvCache: 0.04);
        var policy = LoadAware();

        Assert.All(Enumerable.Range(0, 5), _ => Assert.Same(destinations[0], policy.PickDestination(Request(), Cluster, destinations)));
    }

    [Fact]
    public void LoadAware_ServerBusierThanTheBand_IsNotTakenInTurn()
    {
        var destinations = Destinations("a", "b");
        _fake.Options.LoadTieBand = 0.5;
        _fake.Read(destinations[0], running: 0);
        _fake.Read(destinations[1], running: 1);
        var policy = LoadAware();

        Assert.All(Enumerable.Range(0, 5), _ => Assert.Same(destinations[0], policy.PickDestination(Request(), Cluster, destinations)));
    }

    [Fact]
    public void LoadAware_NoDestinations_PicksNone()
    {
        Assert.Null(LoadAware().PickDestination(Request(), Cluster, []));
    }

    [Fact]
    public void PrefixAffinity_PromptsSharingThePrefix_GoToTheSameServer()
    {
        var destinations = Destinations("modelserver-0", "modelserver-1", "modelserver-2");
        var policy = PrefixAffinity();
        var prefix = new string('x', 200) + " a shared system prompt " + new string('y', 100);

        var chosen = Enumerable.Range(0, 20)
            .Select(i => policy.PickDestination(Request(prefix + $" question {i}"), Cluster, destinations)!.DestinationId)
            .Distinct()
            .ToList();

        Assert.Single(chosen);
    }

    [Fact]
    public void PrefixAffinity_Choice_DoesNotDependOnTheOrderOfTheDestinations()
    {
        var destinations = Destinations("modelserver-0", "modelserver-1", "modelserver-2");
        var policy = PrefixAffinity();

        for (var i = 0; i < 50; i++)
        {
            var prompt = $"prompt {i}";
            var forward = policy.PickDestination(Request(prompt), Cluster, destinations)!;
            var backward = policy.PickDestination(Request(prompt), Cluster, destinations.Reverse().ToArray())!;
            Assert.Same(forward, backward);
        }
    }

    [Fact]
    public void PrefixAffinity_DifferentPrefixes_SpreadOverEveryServer()
    {
        var destinations = Destinations("modelserver-0", "modelserver-1", "modelserver-2");
        var policy = PrefixAffinity();
        var counts = destinations.ToDictionary(d => d.DestinationId, _ => 0);

        for (var i = 0; i < 3000; i++)
        {
            counts[policy.PickDestination(Request($"Once upon a time number {i}"), Cluster, destinations)!.DestinationId]++;
        }

        Assert.All(counts.Values, count => Assert.InRange(count, 850, 1150));
    }

    [Fact]
    public void PrefixAffinity_OnlyTheFirstPrefixLengthCharacters_Count()
    {
        _fake.Options.PrefixLength = 16;
        var destinations = Destinations("a", "b", "c", "d", "e", "f", "g", "h");
        var policy = PrefixAffinity();

        var first = policy.PickDestination(Request("0123456789abcdef and then one thing"), Cluster, destinations);
        var second = policy.PickDestination(Request("0123456789abcdef and then another"), Cluster, destinations);

        Assert.Same(first, second);
        Assert.Equal(AffinityHash.PrefixKey("0123456789abcdef", 16), AffinityHash.PrefixKey("0123456789abcdef!", 16));
        Assert.NotEqual(AffinityHash.PrefixKey("0123456789abcdeX", 16), AffinityHash.PrefixKey("0123456789abcdef", 16));
    }

    [Fact]
    public void PrefixAffinity_SessionHeader_WinsOverThePrompt()
    {
        var destinations = Destinations("a", "b", "c", "d", "e", "f", "g", "h");
        var policy = PrefixAffinity();

        var chosen = Enumerable.Range(0, 30)
            .Select(i => policy.PickDestination(Request($"unrelated prompt {i}", session: "user-42"), Cluster, destinations))
            .Distinct()
            .ToList();

        Assert.Single(chosen);
        Assert.Equal(AffinityHash.Pick(AffinityHash.SessionKey("user-42"), destinations), Array.IndexOf(destinations, chosen[0]));
    }

    [Fact]
    public void PrefixAffinity_ServerOfASeenPrefixBusierThanTheMargin_FallsBackToTheLeastLoaded()
    {
        var destinations = Destinations("a", "b", "c");
        _fake.Options.AffinityMargin = 4;
        var policy = PrefixAffinity();
        var prompt = "a prompt whose server gets busy";

        // Idle servers: the first request goes where rendezvous hashing puts the key.
        var affine = destinations[AffinityHash.Pick(AffinityHash.PrefixKey(prompt, _fake.Options.PrefixLength), destinations)];
        Assert.Same(affine, policy.PickDestination(Request(prompt), Cluster, destinations));
        var others = destinations.Where(d => d != affine).ToArray();
        _fake.Read(others[0], running: 2);
        _fake.Read(others[1], running: 3);

        // Exactly the margin above the least-loaded (2 + 4): stays.
        _fake.Read(affine, running: 6);
        Assert.Same(affine, policy.PickDestination(Request(prompt), Cluster, destinations));

        // Beyond the margin: the least-loaded takes it, and keeps it from then on (its cache now has the prefix).
        _fake.Read(affine, running: 6, waiting: 1);
        Assert.Same(others[0], policy.PickDestination(Request(prompt), Cluster, destinations));
        _fake.Read(affine, running: 0);
        _fake.Read(others[0], running: 3);
        Assert.Same(others[0], policy.PickDestination(Request(prompt), Cluster, destinations));
    }

    [Fact]
    public void PrefixAffinity_NewPrefix_GoesToTheLeastLoaded_NotToItsHashedServer()
    {
        var destinations = Destinations("a", "b", "c", "d");
        var policy = PrefixAffinity();
        for (var i = 0; i < 40; i++)
        {
            var prompt = $"an unrelated prompt {i}";
            var hashed = AffinityHash.Pick(AffinityHash.PrefixKey(prompt, _fake.Options.PrefixLength), destinations);
            var least = (hashed + 1 + (i % 3)) % destinations.Length;
            for (var d = 0; d < destinations.Length; d++)
            {
                _fake.Read(destinations[d], running: d == least ? 1 : 2 + d);
            }

            // Only one unit busier than the least-loaded, well within the margin, yet a prefix no server holds gains
            // nothing from its hashed server: as under LoadAware, the least-loaded takes it.
            Assert.Same(destinations[least], policy.PickDestination(Request(prompt), Cluster, destinations));
        }

        Assert.Equal(40, policy.Table.Count);
    }

    [Fact]
    public void PrefixAffinity_NewPrefixesOnEquallyBusyServers_ArePlacedAsLoadAwarePlacesThem()
    {
        var destinations = Destinations("a", "b", "c", "d");
        _fake.Options.LoadTieBand = 0.5;
        for (var d = 0; d < destinations.Length; d++)
        {
            _fake.Read(destinations[d], running: 1, kvCache: 0.01 * (d + 1));
        }

        var affinity = PrefixAffinity();
        var loadAware = LoadAware();
        var byAffinity = Enumerable.Range(0, 8).Select(i => affinity.PickDestination(Request($"an unrelated prompt {i}"), Cluster, destinations)!.DestinationId).ToList();
        var byLoad = Enumerable.Range(0, 8).Select(_ => loadAware.PickDestination(Request(), Cluster, destinations)!.DestinationId).ToList();

        // Both send each server one request in turn, then repeat the order (the first round's order may differ:
        // rendezvous hashing there, random here).
        Assert.Equal(4, byAffinity.Take(4).Distinct().Count());
        Assert.Equal(byAffinity.Take(4), byAffinity.Skip(4));
        Assert.Equal(4, byLoad.Take(4).Distinct().Count());
        Assert.Equal(byLoad.Take(4), byLoad.Skip(4));
    }

    [Fact]
    public void PrefixAffinity_SeenPrefix_StaysOnItsServerWithinTheMargin()
    {
        var destinations = Destinations("a", "b", "c");
        _fake.Options.AffinityMargin = 4;
        _fake.Options.PrefixLength = 20;
        var policy = PrefixAffinity();
        var prompt = "Story 7: a long shared system prompt";
        _fake.Read(destinations[0], running: 3);
        _fake.Read(destinations[1], running: 0);
        _fake.Read(destinations[2], running: 2);
        Assert.Same(destinations[1], policy.PickDestination(Request(prompt + " first question"), Cluster, destinations));

        // Now b is the busiest, 3 above the least-loaded: the prefix stays where its cache is.
        _fake.Read(destinations[0], running: 2);
        _fake.Read(destinations[1], running: 5);
        Assert.Same(destinations[1], policy.PickDestination(Request(prompt + " second question"), Cluster, destinations));
    }

    [Fact]
    public void PrefixAffinity_ServerOfAPrefixLeaves_ThePrefixIsPlacedAgainByLoad()
    {
        var all = Destinations("a", "b", "c");
        var policy = PrefixAffinity();
        var prompt = "a prompt on a server that leaves";
        var first = policy.PickDestination(Request(prompt), Cluster, all)!;
        var rest = all.Where(d => d != first).ToArray();
        _fake.Read(rest[0], running: 4);
        _fake.Read(rest[1], running: 1);

        Assert.Same(rest[1], policy.PickDestination(Request(prompt), Cluster, rest));
        Assert.Same(rest[1], policy.PickDestination(Request(prompt), Cluster, all));
    }

    [Fact]
    public void PrefixRouteTable_Full_ForgetsTheLeastRecentlyUsedKey()
    {
        var table = new PrefixRouteTable(2);
        table.Set(1, "a");
        table.Set(2, "b");
        Assert.True(table.TryGet(1, out _));
        table.Set(3, "c");

        Assert.Equal(2, table.Count);
        Assert.False(table.TryGet(2, out _));
        Assert.True(table.TryGet(1, out var one));
        Assert.Equal("a", one);
        table.Set(1, "z");
        Assert.True(table.TryGet(1, out var moved));
        Assert.Equal("z", moved);
        Assert.True(table.TryGet(3, out _));
    }

    [Fact]
    public void PrefixAffinity_NoKey_PicksTheLeastLoaded()
    {
        var destinations = new[] { Destination("a", inFlight: 3), Destination("b", inFlight: 1), Destination("c", inFlight: 2) };

        Assert.Same(destinations[1], PrefixAffinity().PickDestination(Request(prompt: null), Cluster, destinations));
    }

    [Fact]
    public void PrefixAffinity_ServerLeaves_OnlyItsKeysMove()
    {
        var all = Destinations("a", "b", "c", "d");
        var withoutC = all.Where(d => d.DestinationId != "c").ToArray();

        for (var i = 0; i < 500; i++)
        {
            var key = AffinityHash.PrefixKey($"prompt {i}", 256);
            var before = all[AffinityHash.Pick(key, all)];
            var after = withoutC[AffinityHash.Pick(key, withoutC)];
            if (before.DestinationId != "c")
            {
                Assert.Same(before, after);
            }
        }
    }

    [Fact]
    public void AffinityHash_IsStableAcrossProcesses()
    {
        // Golden values (also computed by an independent Python FNV-1a + SplitMix64): a change here moves every
        // prefix to another server in a running fleet, and gateways of two versions would disagree.
        Assert.Equal(0xB6BA20128302E385UL, AffinityHash.PrefixKey("Once upon a time", 256));
        Assert.Equal(0x804211000DC1412CUL, AffinityHash.SessionKey("user-42"));
        Assert.Equal(AffinityHash.PrefixKey("Once upon a time", 256), AffinityHash.PrefixKey("Once upon a time", 256));
        Assert.NotEqual(AffinityHash.SessionKey("Once upon a time"), AffinityHash.PrefixKey("Once upon a time", 256));
    }

    [Fact]
    public void PolicyNames_EveryConfiguredName_ResolvesToARegisteredPolicy()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddReverseProxy();
        services.AddSingleton<ILoadBalancingPolicy>(LoadAware());
        services.AddSingleton<ILoadBalancingPolicy>(PrefixAffinity());
        using var provider = services.BuildServiceProvider();

        var names = provider.GetServices<ILoadBalancingPolicy>().Select(policy => policy.Name).ToHashSet(StringComparer.OrdinalIgnoreCase);

        Assert.All(LlmLoadBalancingPolicies.All, name => Assert.Contains(name, names));
        Assert.Equal(LlmLoadBalancingPolicies.RoundRobin, LoadBalancingPolicies.RoundRobin);
        Assert.Equal(LlmLoadBalancingPolicies.PowerOfTwoChoices, LoadBalancingPolicies.PowerOfTwoChoices);
        Assert.Equal(LlmLoadBalancingPolicies.LeastRequests, LoadBalancingPolicies.LeastRequests);
        Assert.Equal(LlmLoadBalancingPolicies.Random, LoadBalancingPolicies.Random);
        Assert.Equal(LlmLoadBalancingPolicies.FirstAlphabetical, LoadBalancingPolicies.FirstAlphabetical);
    }
}
