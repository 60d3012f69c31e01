using System.Diagnostics.CodeAnalysis;

namespace LlmAspire.Gateway.LoadBalancing;

/// <summary>
/// Which server this gateway last sent each affinity key to: the gateway's estimate of which server holds a prefix in
/// its cache (llm-d's approximate prefix-cache scorer and SGLang's router keep the same kind of record of what they
/// routed). Bounded: beyond <see cref="Capacity"/> keys the least recently used is forgotten, as servers forget
/// prefixes they have not seen for longest. Thread-safe.
/// </summary>
internal sealed class PrefixRouteTable
{
    private readonly Lock _gate = new();
    private readonly Dictionary<ulong, LinkedListNode<Entry>> _entries = [];
    private readonly LinkedList<Entry> _order = [];

    /// <summary>Creates a table of at most <paramref name="capacity"/> keys.</summary>
    public PrefixRouteTable(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
    }

    /// <summary>The most keys kept.</summary>
    public int Capacity { get; }

    /// <summary>Keys kept now.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _entries.Count;
            }
        }
    }

    /// <summary>The destination <paramref name="key"/> last went to, marking the key as just used.</summary>
    public bool TryGet(ulong key, [NotNullWhen(true)] out string? destinationId)
    {
        lock (_gate)
        {
            if (_entries.TryGetValue(key, out var node))
            {
                _order.Remove(node);
                _order.AddFirst(node);
                destinationId = node.Value.DestinationId;
                return true;
            }
        }

        destinationId = null;
        return false;
    }

    /// <summary>Records that <paramref name="key"/> went to <paramref name="destinationId"/>; forgets the least recently used key when full.</summary>
    public void Set(ulong key, string destinationId)
    {
        ArgumentNullException.ThrowIfNull(destinationId);
        lock (_gate)
        {
            if (_entries.TryGetValue(key, out var node))
            {
                _order.Remove(node);
                node.Value = new Entry(key, destinationId);
                _order.AddFirst(node);
                return;
            }

            _entries[key] = _order.AddFirst(new Entry(key, destinationId));
            while (_entries.Count > Capacity && _order.Last is { } oldest)
            {
                _order.RemoveLast();
                _entries.Remove(oldest.Value.Key);
            }
        }
    }

    private readonly record struct Entry(ulong Key, string DestinationId);
}
