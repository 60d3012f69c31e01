using System.Globalization;
using LlmAspire.Inference.Models;

namespace LlmAspire.Inference.Engine;

/// <summary>
/// The names of a decoder graph's inputs and outputs, as <c>genai_config.json</c> gives them
/// (<c>%d</c> stands for the layer index).
/// </summary>
internal sealed record DecoderIoNames(
    string InputIds,
    string AttentionMask,
    string PositionIds,
    string PastKey,
    string PastValue,
    string Logits,
    string PresentKey,
    string PresentValue)
{
    /// <summary>ONNX Runtime GenAI's default names, which our converter writes.</summary>
    public static DecoderIoNames Default { get; } = FromConfig(new GenAiDecoder());

    /// <summary>The names a <c>genai_config.json</c> decoder section declares.</summary>
    public static DecoderIoNames FromConfig(GenAiDecoder decoder)
    {
        ArgumentNullException.ThrowIfNull(decoder);
        return new DecoderIoNames(
            decoder.Inputs.InputIds,
            decoder.Inputs.AttentionMask,
            decoder.Inputs.PositionIds,
            decoder.Inputs.PastKeyNames,
            decoder.Inputs.PastValueNames,
            decoder.Outputs.Logits,
            decoder.Outputs.PresentKeyNames,
            decoder.Outputs.PresentValueNames);
    }

    /// <summary>Past key input of <paramref name="layer"/>.</summary>
    public string PastKeyOf(int layer) => Format(PastKey, layer);

    /// <summary>Past value input of <paramref name="layer"/>.</summary>
    public string PastValueOf(int layer) => Format(PastValue, layer);

    /// <summary>Present key output of <paramref name="layer"/>.</summary>
    public string PresentKeyOf(int layer) => Format(PresentKey, layer);

    /// <summary>Present value output of <paramref name="layer"/>.</summary>
    public string PresentValueOf(int layer) => Format(PresentValue, layer);

    private static string Format(string pattern, int layer) =>
        pattern.Replace("%d", layer.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);
}
