using System.Globalization;

namespace LlmAspire.Inference.Models.Pruning;

/// <summary>
/// What <c>llmaspire model prune</c> removes. Every kept layer keeps the same number of feed-forward channels and of
/// key/value head groups, so the pruned model is still a plain <see cref="LlamaConfig"/> (one shape for all layers).
/// </summary>
public sealed class PruningOptions
{
    /// <summary>Feed-forward widths are rounded to a multiple of this (when that still leaves some channels), for kernel-friendly shapes.</summary>
    public const int FfnMultiple = 8;

    /// <summary>Whole decoder layers to drop: those with the lowest Block Influence.</summary>
    public int DropLayers { get; init; }

    /// <summary>Share of the feed-forward channels to keep, in (0, 1].</summary>
    public double FfnKeep { get; init; } = 1;

    /// <summary>Share of the attention heads to keep, in (0, 1], in whole key/value groups.</summary>
    public double HeadsKeep { get; init; } = 1;

    /// <summary>Whether the options change anything at all.</summary>
    public bool DoesSomething => DropLayers != 0 || FfnKeep != 1 || HeadsKeep != 1;

    /// <summary>Feed-forward channels kept per layer of a model <paramref name="hiddenDim"/> wide: round(ratio · width), then to the nearest multiple of <see cref="FfnMultiple"/> (at least one multiple, at most the width).</summary>
    public static int FfnChannels(int hiddenDim, double keep)
    {
        int raw = (int)Math.Round(keep * hiddenDim, MidpointRounding.AwayFromZero);
        if (raw <= 0 || raw >= hiddenDim || hiddenDim < FfnMultiple)
        {
            return Math.Min(raw, hiddenDim);
        }

        int rounded = (int)Math.Round(raw / (double)FfnMultiple, MidpointRounding.AwayFromZero) * FfnMultiple;
        return Math.Clamp(rounded, FfnMultiple, hiddenDim);
    }

    /// <summary>Key/value head groups kept of <paramref name="kvHeads"/>, or null when the ratio does not name a whole number of groups.</summary>
    public static int? KvGroups(int kvHeads, double keep)
    {
        double groups = keep * kvHeads;
        int whole = (int)Math.Round(groups);
        return Math.Abs(groups - whole) < 1e-6 ? whole : null;
    }

    /// <summary>
    /// Why these options cannot prune a model of shape <paramref name="config"/>, as one line naming the option; null
    /// when they can.
    /// </summary>
    public string? Problem(LlamaConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var c = CultureInfo.InvariantCulture;
        if (!DoesSomething)
        {
            return "nothing to do: give --drop-layers N, --ffn-keep R or --heads-keep R";
        }

        if (DropLayers < 0 || DropLayers >= config.Layers)
        {
            return string.Create(c, $"--drop-layers {DropLayers}: the model has {config.Layers} layers; drop from 0 to {config.Layers - 1}");
        }

        if (DropLayers > 0 && (config.AlternatingSlidingWindow || config.SlidingWindowPattern > 0 || config.LocalRopeTheta > 0 || (config.SlidingWindow > 0 && config.FirstSlidingLayer > 0)))
        {
            return $"--drop-layers: {config.ModelType} decides each layer's attention (local or global) by its index, which dropping layers would shift; prune its width only";
        }

        if (!(FfnKeep > 0 && FfnKeep <= 1))
        {
            return string.Create(c, $"--ffn-keep must be greater than 0 and at most 1, not {FfnKeep}");
        }

        if (!(HeadsKeep > 0 && HeadsKeep <= 1))
        {
            return string.Create(c, $"--heads-keep must be greater than 0 and at most 1, not {HeadsKeep}");
        }

        if (FfnChannels(config.HiddenDim, FfnKeep) <= 0)
        {
            return string.Create(c, $"--ffn-keep {FfnKeep} keeps no channel of {config.HiddenDim}; keep at least 1 / {config.HiddenDim}");
        }

        int group = config.Heads / config.KvHeads;
        if (KvGroups(config.KvHeads, HeadsKeep) is not { } groups)
        {
            return string.Create(
                c,
                $"--heads-keep {HeadsKeep} keeps {HeadsKeep * config.Heads:0.##} of {config.Heads} query heads, not whole groups of {group} (one key/value head each); use a multiple of 1/{config.KvHeads}");
        }

        if (groups == 0)
        {
            return string.Create(c, $"--heads-keep {HeadsKeep} keeps no head of {config.Heads}; keep at least 1/{config.KvHeads} (one key/value group)");
        }

        return null;
    }
}
