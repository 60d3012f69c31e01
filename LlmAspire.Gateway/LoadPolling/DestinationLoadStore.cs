using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using Yarp.ReverseProxy.Model;

namespace LlmAspire.Gateway.LoadPolling;

/// <summary>
/// The latest load reading of every destination, written by <see cref="DestinationLoadPoller"/> and read by the
/// load-aware policies. Keyed by YARP's destination object, so a removed destination's reading goes with it.
/// </summary>
internal sealed class DestinationLoadStore
{
    private readonly ConditionalWeakTable<DestinationState, DestinationLoadSample> _samples = [];

    public bool TryGet(DestinationState destination, [NotNullWhen(true)] out DestinationLoadSample? sample) =>
        _samples.TryGetValue(destination, out sample);

    /// <summary>Records a successful reading.</summary>
    public void Set(DestinationState destination, DestinationLoadSample sample) => _samples.AddOrUpdate(destination, sample);

    /// <summary>Records a failed read: the last reading is kept and ages.</summary>
    public void RecordFailure(DestinationState destination)
    {
        if (_samples.TryGetValue(destination, out var sample))
        {
            _samples.AddOrUpdate(destination, sample with { FailedReadsSince = sample.FailedReadsSince + 1 });
        }
    }

    /// <summary>Every destination with a reading.</summary>
    public IEnumerable<KeyValuePair<DestinationState, DestinationLoadSample>> Snapshot() => _samples;
}
