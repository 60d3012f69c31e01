namespace LlmAspire.Inference.Models.Pruning;

/// <summary>What <see cref="CalibrationPass"/> measured over the calibration tokens, per layer of the source model.</summary>
public sealed class CalibrationStatistics
{
    /// <summary>
    /// ShortGPT's Block Influence per layer: 1 − the mean over tokens of cos(residual entering the layer, residual
    /// leaving it). Near 0: the layer barely turns the hidden state, so dropping it costs little.
    /// </summary>
    public required double[] BlockInfluence { get; init; }

    /// <summary>
    /// Per layer, per feed-forward channel j: ‖a_j‖₂ over the calibration tokens × ‖down_proj column j‖₂, where
    /// a_j = act(gate_j · x) · (up_j · x) — Wanda's |W|·‖X‖ taken structurally, for the whole channel.
    /// </summary>
    public required double[][] FfnImportance { get; init; }

    /// <summary>
    /// Per layer, per key/value head group (a KV head and the query heads that read it): the root of the summed
    /// squared norms of what the group adds to the residual through o_proj, over the calibration tokens.
    /// </summary>
    public required double[][] HeadGroupImportance { get; init; }

    /// <summary>Calibration tokens the statistics are over.</summary>
    public required int Tokens { get; init; }
}
