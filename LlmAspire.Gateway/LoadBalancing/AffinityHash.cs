using LlmAspire.Gateway.Requests;
using Microsoft.Extensions.Primitives;
using Yarp.ReverseProxy.Model;

namespace LlmAspire.Gateway.LoadBalancing;

/// <summary>
/// The affinity key of a request and rendezvous (highest random weight) hashing over destinations. The hashes are
/// FNV-1a over UTF-16 code units, finished with SplitMix64: stable across processes and machines (unlike
/// <see cref="string.GetHashCode()"/>), so every gateway instance sends a prefix to the same server.
/// </summary>
internal static class AffinityHash
{
    private const ulong FnvOffset = 14695981039346656037;
    private const ulong FnvPrime = 1099511628211;

    /// <summary>
    /// The key of a request: its session header when present, else the first <paramref name="prefixLength"/>
    /// characters of its prompt; null when it has neither (then it has no affinity).
    /// </summary>
    public static ulong? KeyOf(HttpContext context, string sessionHeader, int prefixLength)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!string.IsNullOrEmpty(sessionHeader)
            && context.Request.Headers.TryGetValue(sessionHeader, out StringValues values)
            && values.Count > 0
            && !string.IsNullOrEmpty(values[0]))
        {
            return SessionKey(values[0]!);
        }

        return context.GetCompletionRequest()?.PromptText is { Length: > 0 } prompt
            ? PrefixKey(prompt, prefixLength)
            : null;
    }

    /// <summary>The key of a session id.</summary>
    public static ulong SessionKey(string sessionId) => Hash('s', sessionId);

    /// <summary>The key of a prompt: a hash of its first <paramref name="prefixLength"/> characters.</summary>
    public static ulong PrefixKey(string prompt, int prefixLength)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        return Hash('p', prompt.AsSpan(0, Math.Min(Math.Max(prefixLength, 1), prompt.Length)));
    }

    /// <summary>The index of the destination with the highest weight for <paramref name="key"/>; ties go to the smaller id.</summary>
    public static int Pick(ulong key, IReadOnlyList<DestinationState> destinations)
    {
        ArgumentNullException.ThrowIfNull(destinations);
        var best = -1;
        ulong bestWeight = 0;
        for (var i = 0; i < destinations.Count; i++)
        {
            var weight = Weight(key, destinations[i].DestinationId);
            if (best < 0
                || weight > bestWeight
                || (weight == bestWeight && string.CompareOrdinal(destinations[i].DestinationId, destinations[best].DestinationId) < 0))
            {
                best = i;
                bestWeight = weight;
            }
        }

        return best;
    }

    /// <summary>The rendezvous weight of a destination for a key.</summary>
    public static ulong Weight(ulong key, string destinationId) => Mix(key ^ Hash('d', destinationId));

    /// <summary>FNV-1a of a kind tag and the text, mixed.</summary>
    public static ulong Hash(char kind, ReadOnlySpan<char> text)
    {
        var hash = Step(FnvOffset, kind);
        foreach (var c in text)
        {
            hash = Step(hash, c);
        }

        return Mix(hash);
    }

    private static ulong Step(ulong hash, char c)
    {
        hash = (hash ^ (byte)c) * FnvPrime;
        return (hash ^ (byte)(c >> 8)) * FnvPrime;
    }

    /// <summary>SplitMix64's finalizer: spreads every input bit over the output.</summary>
    private static ulong Mix(ulong x)
    {
        x ^= x >> 30;
        x *= 0xbf58476d1ce4e5b9;
        x ^= x >> 27;
        x *= 0x94d049bb133111eb;
        return x ^ (x >> 31);
    }
}
