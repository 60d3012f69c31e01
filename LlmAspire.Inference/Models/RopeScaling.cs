using System.Text.Json.Serialization;

namespace LlmAspire.Inference.Models;

/// <summary>
/// Hugging Face's <c>rope_scaling</c> (or <c>rope_parameters</c>) for the types whose frequencies do not depend on the
/// running sequence length, so they fit a fixed cos/sin cache: <c>linear</c> (every frequency divided by
/// <paramref name="Factor"/>), <c>llama3</c> (Llama 3.1's smooth blend between the two) and <c>dynamic</c> (NTK, which is
/// plain RoPE up to <paramref name="OriginalMaxPositionEmbeddings"/>, the context such a model is served with) and
/// <c>longrope</c> (Phi-3's, once called <c>su</c>: every frequency divided by its <see cref="ShortFactor"/>, cos and sin
/// multiplied by <see cref="AttentionFactor"/>; transformers switches to the long factors only once a sequence outgrows
/// <paramref name="OriginalMaxPositionEmbeddings"/>, so that length is the served context and the long factors go unused).
/// </summary>
/// <param name="Type">The <c>rope_type</c>: linear, llama3 or dynamic.</param>
/// <param name="Factor">The scaling factor.</param>
/// <param name="LowFreqFactor">llama3: wavelengths beyond original / low are divided by the factor.</param>
/// <param name="HighFreqFactor">llama3: wavelengths below original / high are kept.</param>
/// <param name="OriginalMaxPositionEmbeddings">llama3: the context the model was trained with; dynamic: the length up to which it is plain RoPE.</param>
public sealed record RopeScaling(
    [property: JsonPropertyName("rope_type")] string Type,
    [property: JsonPropertyName("factor")] double Factor,
    [property: JsonPropertyName("low_freq_factor")] double LowFreqFactor = 0,
    [property: JsonPropertyName("high_freq_factor")] double HighFreqFactor = 0,
    [property: JsonPropertyName("original_max_position_embeddings")] int OriginalMaxPositionEmbeddings = 0)
{
    /// <summary>The rope types whose frequencies fit a fixed cos/sin cache.</summary>
    public static IReadOnlyList<string> SupportedTypes { get; } = ["linear", "llama3", "dynamic", "longrope"];

    /// <summary>longrope: one divisor per rotated pair, used up to <see cref="OriginalMaxPositionEmbeddings"/>.</summary>
    [JsonPropertyName("short_factor")]
    public double[]? ShortFactor { get; init; }

    /// <summary>longrope: the factor cos and sin are multiplied by (transformers' <c>attention_factor</c>, the paper's mscale); 0 means 1.</summary>
    [JsonPropertyName("attention_factor")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public double AttentionFactor { get; init; }

    /// <summary>What cos and sin are multiplied by.</summary>
    [JsonIgnore]
    public double CosSinScale => AttentionFactor > 0 ? AttentionFactor : 1;

    /// <summary>Value equality, the short factors compared element by element.</summary>
    public bool Equals(RopeScaling? other) =>
        other is not null && Type == other.Type && Factor.Equals(other.Factor) && LowFreqFactor.Equals(other.LowFreqFactor)
        && HighFreqFactor.Equals(other.HighFreqFactor) && OriginalMaxPositionEmbeddings == other.OriginalMaxPositionEmbeddings
        && AttentionFactor.Equals(other.AttentionFactor)
        && (ShortFactor ?? []).AsSpan().SequenceEqual(other.ShortFactor ?? []) && ShortFactor is null == other.ShortFactor is null;

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Type, Factor, OriginalMaxPositionEmbeddings, AttentionFactor, ShortFactor?.Length);

    /// <summary>
    /// The inverse frequencies of <paramref name="rotaryDim"/> rotated dimensions of a head (one per rotated pair), as
    /// transformers' <c>_compute_default_rope_parameters</c>, <c>_compute_linear_scaling_rope_parameters</c>,
    /// <c>_compute_llama3_parameters</c> and <c>_compute_longrope_parameters</c> (short factors) compute them, in double precision.
    /// </summary>
    public static double[] InverseFrequencies(double theta, int rotaryDim, RopeScaling? scaling)
    {
        double[] inv = new double[rotaryDim / 2];
        for (int i = 0; i < inv.Length; i++)
        {
            inv[i] = 1.0 / Math.Pow(theta, 2.0 * i / rotaryDim);
        }

        switch (scaling?.Type)
        {
            case null or "dynamic":
                // Dynamic NTK changes the base only past the original length; the served context stops there.
                return inv;
            case "linear":
                return [.. inv.Select(f => f / scaling.Factor)];
            case "longrope":
                double[] factors = scaling.ShortFactor is { } f && f.Length == inv.Length
                    ? f
                    : throw new InvalidDataException($"longrope short_factor has {scaling.ShortFactor?.Length ?? 0} values; the rotary dimension {rotaryDim} needs {inv.Length}.");
                return [.. inv.Select((v, i) => v / factors[i])];
            case "llama3":
                double lowWavelength = scaling.OriginalMaxPositionEmbeddings / scaling.LowFreqFactor;
                double highWavelength = scaling.OriginalMaxPositionEmbeddings / scaling.HighFreqFactor;
                for (int i = 0; i < inv.Length; i++)
                {
                    double wavelength = 2 * Math.PI / inv[i];
                    if (wavelength > lowWavelength)
                    {
                        inv[i] /= scaling.Factor;
                    }
                    else if (wavelength >= highWavelength)
                    {
                        double smooth = (scaling.OriginalMaxPositionEmbeddings / wavelength - scaling.LowFreqFactor) / (scaling.HighFreqFactor - scaling.LowFreqFactor);
                        inv[i] = (1 - smooth) * inv[i] / scaling.Factor + smooth * inv[i];
                    }
                }

                return inv;
            default:
                throw new NotSupportedException($"rope_type '{scaling.Type}' is not supported; {string.Join(", ", SupportedTypes)} are.");
        }
    }
}
