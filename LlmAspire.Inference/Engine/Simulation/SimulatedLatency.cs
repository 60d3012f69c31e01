namespace LlmAspire.Inference.Engine.Simulation;

/// <summary>
/// The latency model of <see cref="SimulatedEngineOptions"/> as arithmetic: what one pass of a step costs. A step's
/// first pass pays <see cref="SimulatedEngineOptions.DecodeBaseMs"/> (reading the weights), so the passes of one step
/// add up to one fused GPU pass however the engine splits them.
/// </summary>
internal sealed class SimulatedLatency(SimulatedEngineOptions options)
{
    private readonly SimulatedEngineOptions _options = options ?? throw new ArgumentNullException(nameof(options));

    /// <summary>Milliseconds of a pass computing <paramref name="promptTokens"/> prompt tokens of one sequence.</summary>
    public double Prefill(bool firstInStep, int promptTokens) =>
        (firstInStep ? _options.DecodeBaseMs : 0) + (promptTokens * _options.PrefillMsPerToken);

    /// <summary>Milliseconds of a decode pass of <paramref name="sequences"/> sequences reading <paramref name="kvPositions"/> KV positions in all.</summary>
    public double Decode(bool firstInStep, int sequences, long kvPositions) =>
        (firstInStep ? _options.DecodeBaseMs : 0) + (sequences * _options.DecodeMsPerSequence) + (kvPositions * _options.DecodeMsPerKvToken);
}
