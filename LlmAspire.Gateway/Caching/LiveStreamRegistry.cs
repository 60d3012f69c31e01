using System.Collections.Concurrent;

namespace LlmAspire.Gateway.Caching;

/// <summary>The streamed responses this gateway is forwarding now, by cache key (see <see cref="LiveStream"/>).</summary>
internal sealed class LiveStreamRegistry
{
    private readonly ConcurrentDictionary<string, LiveStream> _streams = new(StringComparer.Ordinal);

    /// <summary>True when the caller is first and must forward (<paramref name="live"/> is its new recording); false with the one to follow.</summary>
    public bool TryBegin(string key, out LiveStream live)
    {
        var created = new LiveStream();
        live = _streams.GetOrAdd(key, created);
        return ReferenceEquals(live, created);
    }

    /// <summary>Takes the recording off the list: later requests will find the cache entry, or forward.</summary>
    public void End(string key, LiveStream live) => _streams.TryRemove(KeyValuePair.Create(key, live));
}
