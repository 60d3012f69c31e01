namespace LlmAspire.Tests.Gateway.LoadBalancing;

/// <summary>A <see cref="Random"/> whose <see cref="Next(int)"/> answers a script, then 0; records the bounds it was asked for.</summary>
internal sealed class ScriptedRandom(params int[] script) : Random
{
    private int _next;

    public List<int> Bounds { get; } = [];

    public override int Next(int maxValue)
    {
        Bounds.Add(maxValue);
        var value = _next < script.Length ? script[_next++] : 0;
        return Math.Clamp(value, 0, Math.Max(0, maxValue - 1));
    }
}
