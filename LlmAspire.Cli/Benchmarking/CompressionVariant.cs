using System.Globalization;
using LlmAspire.Inference.Models.Pruning;
using LlmAspire.Inference.Models.Quantization;

namespace LlmAspire.Cli.Benchmarking;

/// <summary>
/// One row of <c>bench compression</c> besides float32: a pruning of the float32 folder, a quantization of it, or a
/// pruning whose folder is then quantized (<c>prune-d1-f75+int8-b32-asym-acc4</c>).
/// </summary>
/// <param name="Name">The row's name, normalized (pruning parts in d, f, h order; quantization as <see cref="QuantizationOptions.Describe"/>).</param>
/// <param name="Prune">What is pruned first, or null.</param>
/// <param name="Quantize">How the (pruned) folder is then quantized, or null.</param>
internal sealed record CompressionVariant(string Name, PruningOptions? Prune, QuantizationOptions? Quantize)
{
    /// <summary>The name's prefix that makes it a pruning.</summary>
    public const string PrunePrefix = "prune-";

    /// <summary>The name of the pruning part alone (the folder a composite quantizes), or null.</summary>
    public string? PruneName => Prune is null ? null : DescribePruning(Prune);

    /// <summary>
    /// Parses a comma-separated list; throws <see cref="FormatException"/> or <see cref="ArgumentException"/> whose
    /// message names the bad variant. <c>fp32</c> is the baseline every table has, so it is skipped; repeats are dropped.
    /// </summary>
    public static IReadOnlyList<CompressionVariant> ParseList(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var variants = new List<CompressionVariant>();
        foreach (string name in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (string.Equals(name, "fp32", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            CompressionVariant variant = Parse(name);
            if (!variants.Any(v => v.Name == variant.Name))
            {
                variants.Add(variant);
            }
        }

        return variants.Count > 0 ? variants : throw new FormatException("name at least one variant, e.g. int8-b32-asym-acc4,prune-d1,prune-d1-f75+int4-b32-asym-acc4");
    }

    /// <summary>Parses one name: a quantization name, <c>prune-</c> with d&lt;layers&gt;, f&lt;ffn keep %&gt;, h&lt;heads keep %&gt;, or the two joined by <c>+</c>.</summary>
    public static CompressionVariant Parse(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        string trimmed = name.Trim();
        string[] halves = trimmed.Split('+');
        if (halves.Length > 2)
        {
            throw new FormatException($"'{trimmed}' has more than one '+'; a composite is prune-...+int...: prune first, then quantize");
        }

        if (halves.Length == 2)
        {
            if (!halves[0].StartsWith(PrunePrefix, StringComparison.OrdinalIgnoreCase) || halves[1].StartsWith(PrunePrefix, StringComparison.OrdinalIgnoreCase))
            {
                throw new FormatException($"'{trimmed}' is not prune-...+<quantization>: the pruning comes first, the quantization of its folder second");
            }

            PruningOptions prune = ParsePruning(halves[0], trimmed);
            QuantizationOptions quantize = ParseQuantization(halves[1], trimmed);
            return new CompressionVariant($"{DescribePruning(prune)}+{quantize.Describe()}", prune, quantize);
        }

        if (trimmed.StartsWith(PrunePrefix, StringComparison.OrdinalIgnoreCase))
        {
            PruningOptions prune = ParsePruning(trimmed, trimmed);
            return new CompressionVariant(DescribePruning(prune), prune, null);
        }

        QuantizationOptions options = ParseQuantization(trimmed, trimmed);
        return new CompressionVariant(options.Describe(), null, options);
    }

    /// <summary>The normalized name of a pruning: <c>prune-d1-f75-h50</c>, parts left out when they keep everything.</summary>
    public static string DescribePruning(PruningOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var c = CultureInfo.InvariantCulture;
        var parts = new List<string>();
        if (options.DropLayers != 0)
        {
            parts.Add(string.Create(c, $"d{options.DropLayers}"));
        }

        if (options.FfnKeep != 1)
        {
            parts.Add(string.Create(c, $"f{Math.Round(options.FfnKeep * 100):0}"));
        }

        if (options.HeadsKeep != 1)
        {
            parts.Add(string.Create(c, $"h{Math.Round(options.HeadsKeep * 100):0}"));
        }

        return "prune-" + string.Join('-', parts);
    }

    private static PruningOptions ParsePruning(string text, string variant)
    {
        int? drop = null, ffn = null, heads = null;
        string[] parts = text[PrunePrefix.Length..].Split('-');
        foreach (string part in parts)
        {
            if (part.Length < 2 || !int.TryParse(part.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out int value))
            {
                throw new FormatException($"'{part}' in '{variant}' is not d<layers to drop>, f<ffn % kept> or h<heads % kept>, e.g. prune-d1-f75");
            }

            switch (char.ToLowerInvariant(part[0]))
            {
                case 'd' when drop is null:
                    drop = value;
                    break;
                case 'f' when ffn is null:
                    ffn = KeptPercent(value, part, variant);
                    break;
                case 'h' when heads is null:
                    heads = KeptPercent(value, part, variant);
                    break;
                case 'd' or 'f' or 'h':
                    throw new FormatException($"'{variant}' gives '{part[0]}' twice");
                default:
                    throw new FormatException($"'{part}' in '{variant}' is not d<layers to drop>, f<ffn % kept> or h<heads % kept>, e.g. prune-d1-f75");
            }
        }

        var options = new PruningOptions { DropLayers = drop ?? 0, FfnKeep = (ffn ?? 100) / 100.0, HeadsKeep = (heads ?? 100) / 100.0 };
        return options.DoesSomething ? options : throw new FormatException($"'{variant}' prunes nothing; drop a layer (d1) or keep less than 100 % (f75, h50)");
    }

    private static int KeptPercent(int value, string part, string variant) =>
        value is > 0 and <= 100 ? value : throw new FormatException($"'{part}' in '{variant}': the kept share is a percentage from 1 to 100");

    private static QuantizationOptions ParseQuantization(string text, string variant)
    {
        try
        {
            return QuantizationOptions.Parse(text);
        }
        catch (Exception ex) when ((ex is FormatException or ArgumentException) && text != variant)
        {
            throw new FormatException($"variant '{variant}': {ex.Message}", ex);
        }
    }
}
