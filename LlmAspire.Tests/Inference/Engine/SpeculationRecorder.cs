using LlmAspire.Inference.Engine;

namespace LlmAspire.Tests.Inference.Engine;

/// <summary>Adds up what the engine reports about checked proposals.</summary>
internal sealed class SpeculationRecorder : IEngineListener
{
    private int _proposed;
    private int _accepted;

    public int Proposed => Volatile.Read(ref _proposed);

    public int Accepted => Volatile.Read(ref _accepted);

    public void ProposalsVerified(int proposed, int accepted)
    {
        Assert.InRange(accepted, 0, proposed);
        Interlocked.Add(ref _proposed, proposed);
        Interlocked.Add(ref _accepted, accepted);
    }
}
