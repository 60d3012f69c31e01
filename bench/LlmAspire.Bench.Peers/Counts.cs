using System.Globalization;

namespace LlmAspire.Bench.Peers;

/// <summary>Every stream of every peer must decode exactly the asked count, or the tokens/s compare different work.</summary>
internal static class Counts
{
    /// <summary>Throws when a stream generated other than <paramref name="expected"/> tokens (an end token not suppressed).</summary>
    public static void Check(string peer, IEnumerable<int> perStream, int expected)
    {
        int[] counts = [.. perStream];
        if (counts.Any(c => c != expected))
        {
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                $"{peer}: streams generated {string.Join(",", counts.Distinct())} tokens, not {expected}; its end-of-sequence suppression failed."));
        }
    }
}
