namespace LlmAspire.Inference.Models.Pruning;

/// <summary>
/// Exactly what to remove: the layers dropped, and for each kept layer (in order) the feed-forward channels and
/// key/value head groups kept, as ascending indices into the source layer. <see cref="Choose"/> makes it from the
/// calibration statistics; a plan can also be written by hand (to compare a choice with its opposite).
/// </summary>
public sealed class PruningPlan
{
    /// <summary>Source layers removed, ascending.</summary>
    public required IReadOnlyList<int> DroppedLayers { get; init; }

    /// <summary>Per kept layer: the feed-forward channels kept, ascending; every layer keeps as many.</summary>
    public required IReadOnlyList<int[]> FfnChannels { get; init; }

    /// <summary>Per kept layer: the key/value head groups kept, ascending; every layer keeps as many.</summary>
    public required IReadOnlyList<int[]> KvGroups { get; init; }

    /// <summary>The source layers kept, ascending.</summary>
    public IReadOnlyList<int> KeptLayers(int layers) => [.. Enumerable.Range(0, layers).Except(DroppedLayers)];

    /// <summary>
    /// The layers of lowest Block Influence dropped; in each kept layer, the feed-forward channels and head groups of
    /// highest importance kept. Ties go to the lower index, so the plan is a function of the statistics alone.
    /// </summary>
    public static PruningPlan Choose(LlamaConfig config, CalibrationStatistics statistics, PruningOptions options)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(statistics);
        ArgumentNullException.ThrowIfNull(options);
        if (options.Problem(config) is { } problem)
        {
            throw new ArgumentException(problem, nameof(options));
        }

        int[] dropped = [.. Lowest(statistics.BlockInfluence, options.DropLayers).Order()];
        int channels = PruningOptions.FfnChannels(config.HiddenDim, options.FfnKeep);
        int groups = PruningOptions.KvGroups(config.KvHeads, options.HeadsKeep)!.Value;
        int[] kept = [.. Enumerable.Range(0, config.Layers).Except(dropped)];
        return new PruningPlan
        {
            DroppedLayers = dropped,
            FfnChannels = [.. kept.Select(l => Highest(statistics.FfnImportance[l], channels))],
            KvGroups = [.. kept.Select(l => Highest(statistics.HeadGroupImportance[l], groups))],
        };
    }

    /// <summary>Indices of the <paramref name="count"/> largest values, ascending (ties: the lower index).</summary>
    public static int[] Highest(IReadOnlyList<double> values, int count) =>
        [.. Enumerable.Range(0, values.Count).OrderByDescending(i => values[i]).ThenBy(i => i).Take(count).Order()];

    /// <summary>Indices of the <paramref name="count"/> smallest values, ascending (ties: the lower index).</summary>
    public static int[] Lowest(IReadOnlyList<double> values, int count) =>
        [.. Enumerable.Range(0, values.Count).OrderBy(i => values[i]).ThenBy(i => i).Take(count).Order()];
}
