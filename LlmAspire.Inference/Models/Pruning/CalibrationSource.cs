namespace LlmAspire.Inference.Models.Pruning;

/// <summary>Which calibration text a pruning ran over, as <see cref="PruningManifest"/> records it.</summary>
/// <param name="Name">"built-in", or the file's full path.</param>
/// <param name="Sha256">The file's SHA-256 in hex; null for the built-in sample.</param>
/// <param name="Documents">Documents (paragraphs) in it.</param>
public sealed record CalibrationSource(string Name, string? Sha256, int Documents)
{
    /// <summary>The built-in sample of <see cref="Calibration.CalibrationText"/>.</summary>
    public static CalibrationSource BuiltIn { get; } = new("built-in", null, Calibration.CalibrationText.BuiltIn.Count);
}
