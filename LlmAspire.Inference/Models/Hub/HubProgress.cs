namespace LlmAspire.Inference.Models.Hub;

/// <summary>One progress report of <see cref="HubModelResolver"/>.</summary>
/// <param name="Kind">What happened.</param>
/// <param name="File">The repository path of the file, or the folder for lock and conversion reports.</param>
/// <param name="Bytes">Bytes of <paramref name="File"/> on disk so far.</param>
/// <param name="TotalBytes">The file's size, when the hub gives it.</param>
/// <param name="Detail">Why a transfer is retried, or which checks passed.</param>
public sealed record HubProgress(HubProgressKind Kind, string File, long Bytes = 0, long? TotalBytes = null, string? Detail = null)
{
    /// <summary>Percent done, when the size is known.</summary>
    public double? Percent => TotalBytes is > 0 ? 100.0 * Bytes / TotalBytes.Value : null;
}
