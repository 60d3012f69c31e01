using System.Runtime.CompilerServices;
using Yarp.ReverseProxy.Model;
using LlmAspire.Gateway.LoadPolling;

namespace LlmAspire.Gateway.LoadBalancing;

/// <summary>Destinations' load scores (<see cref="DestinationLoadScorer"/>) and the least of them; <see cref="DestinationPickClock"/> picks among the near-least.</summary>
internal static class LeastLoaded
{
    /// <summary>Scores within this of each other are equal.</summary>
    public const double Tolerance = 1e-9;

    /// <summary>Each destination's score, in order.</summary>
    public static double[] Scores(IReadOnlyList<DestinationState> destinations, DestinationLoadScorer scorer)
    {
        var scores = new double[destinations.Count];
        for (var i = 0; i < scores.Length; i++)
        {
            scores[i] = scorer.Score(destinations[i]);
        }

        return scores;
    }

    /// <summary>The smallest score.</summary>
    public static double Min(ReadOnlySpan<double> scores)
    {
        var min = double.PositiveInfinity;
        foreach (var score in scores)
        {
            min = Math.Min(min, score);
        }

        return min;
    }
}

/// <summary>
/// When a policy last sent a request to each destination, to choose among destinations that are about equally loaded
/// (<see cref="Routing.RoutingOptions.LoadTieBand"/>): the one sent to longest ago. Load counts requests, not how far
/// along they are; of two servers each running one request, the one that got its request earlier is the nearer to
/// done (it has prefilled more), and a request sent there waits less. Picking it is what round-robin does by
/// construction, and why round-robin beat a least-loaded pick with random ties on an even workload (docs/BENCHMARKS.md,
/// "Fleet"). Keyed by the destination's state object, so destinations that leave are forgotten with it.
/// </summary>
internal sealed class DestinationPickClock
{
    private readonly ConditionalWeakTable<DestinationState, StrongBox<long>> _lastPicked = new();
    private long _now;

    /// <summary>When <paramref name="destination"/> was last picked, in picks; 0 if never.</summary>
    public long LastPicked(DestinationState destination) =>
        _lastPicked.TryGetValue(destination, out var box) ? Volatile.Read(ref box.Value) : 0;

    /// <summary>Records that a request goes to <paramref name="destination"/> now.</summary>
    public void Picked(DestinationState destination)
    {
        var box = _lastPicked.GetValue(destination, static _ => new StrongBox<long>());
        Volatile.Write(ref box.Value, Interlocked.Increment(ref _now));
    }

    /// <summary>
    /// Among the destinations within <paramref name="tieBand"/> of the smallest score, the one picked longest ago.
    /// Among those never picked: with a <paramref name="key"/>, the highest rendezvous weight for it (the same key
    /// lands on the same server whatever the order of the list); without, each equally likely.
    /// </summary>
    public int IndexOf(ReadOnlySpan<double> scores, IReadOnlyList<DestinationState> destinations, double tieBand, Random random, ulong? key = null)
    {
        var limit = LeastLoaded.Min(scores) + Math.Max(tieBand, LeastLoaded.Tolerance);
        var best = -1;
        var bestPicked = long.MaxValue;
        ulong bestWeight = 0;
        var ties = 0;
        for (var i = 0; i < scores.Length; i++)
        {
            if (scores[i] > limit)
            {
                continue;
            }

            var picked = LastPicked(destinations[i]);
            if (best >= 0 && picked > bestPicked)
            {
                continue;
            }

            var weight = key is { } k ? AffinityHash.Weight(k, destinations[i].DestinationId) : 0;
            if (best < 0 || picked < bestPicked)
            {
                (best, bestPicked, bestWeight, ties) = (i, picked, weight, 1);
                continue;
            }

            // Equally long ago (never): the key's rendezvous weight, else reservoir sampling.
            var replace = key is null
                ? random.Next(++ties) == 0
                : weight > bestWeight
                    || (weight == bestWeight && string.CompareOrdinal(destinations[i].DestinationId, destinations[best].DestinationId) < 0);
            if (replace)
            {
                (best, bestWeight) = (i, weight);
            }
        }

        return best;
    }
}
