using Yarp.ReverseProxy.Model;
using LlmAspire.Gateway.LoadPolling;

namespace LlmAspire.Gateway.LoadBalancing;

/// <summary>The least-loaded of several destinations, ties broken uniformly at random.</summary>
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

    /// <summary>The index of the smallest score; among equal ones, each is equally likely (reservoir sampling).</summary>
    public static int IndexOf(ReadOnlySpan<double> scores, Random random)
    {
        var best = -1;
        var ties = 0;
        for (var i = 0; i < scores.Length; i++)
        {
            if (best < 0 || scores[i] < scores[best] - Tolerance)
            {
                best = i;
                ties = 1;
            }
            else if (Math.Abs(scores[i] - scores[best]) <= Tolerance && random.Next(++ties) == 0)
            {
                best = i;
            }
        }

        return best;
    }
}
