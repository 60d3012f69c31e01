using System.Text;
using System.Text.Json;

namespace LlmAspire.Inference.Tokenization;

/// <summary>
/// The <c>normalizer</c> of a <c>tokenizer.json</c>: a chain of string rewrites applied to each stretch of text
/// between added tokens. Supported: Sequence, Prepend, Replace (string or regex), NFC, NFD, NFKC, NFKD, Lowercase,
/// Strip; anything else is a <see cref="NotSupportedException"/> naming the type.
/// </summary>
/// <remarks>
/// The Unicode normalization forms use <see cref="string.Normalize(NormalizationForm)"/>, which does nothing under
/// <c>InvariantGlobalization</c> (this repository's setting): text already in the form (NFC for Qwen, the usual case)
/// is unaffected; decomposed or compatibility characters then tokenize as written.
/// </remarks>
internal sealed class TextNormalizer
{
    private readonly Func<string, string>[] _steps;

    private TextNormalizer(Func<string, string>[] steps) => _steps = steps;

    /// <summary>No normalization.</summary>
    public static TextNormalizer None { get; } = new([]);

    /// <summary>Whether any step is present.</summary>
    public bool IsEmpty => _steps.Length == 0;

    /// <summary>Whether the chain prepends text (Llama's Prepend "▁"), which makes each stretch start a new word.</summary>
    public string? Prepends { get; private init; }

    /// <summary>Rewrites <paramref name="text"/>.</summary>
    public string Apply(string text)
    {
        foreach (Func<string, string> step in _steps)
        {
            text = step(text);
        }

        return text;
    }

    /// <summary>Reads the <c>normalizer</c> node (null or absent: none).</summary>
    public static TextNormalizer Parse(JsonElement node)
    {
        if (node.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined)
        {
            return None;
        }

        var steps = new List<Func<string, string>>();
        string? prepends = null;
        Add(node, steps, ref prepends);
        return new TextNormalizer([.. steps]) { Prepends = prepends };
    }

    private static void Add(JsonElement node, List<Func<string, string>> steps, ref string? prepends)
    {
        string type = TokenizerJson.TypeOf(node, "normalizer");
        switch (type)
        {
            case "Sequence":
                foreach (JsonElement child in node.GetProperty("normalizers").EnumerateArray())
                {
                    Add(child, steps, ref prepends);
                }

                break;
            case "Prepend":
                string prefix = node.GetProperty("prepend").GetString() ?? string.Empty;
                prepends ??= prefix;
                steps.Add(text => text.Length == 0 ? text : prefix + text);
                break;
            case "Replace":
                steps.Add(TokenizerJson.ParseReplace(node, "normalizer"));
                break;
            case "NFC":
                steps.Add(text => text.Normalize(NormalizationForm.FormC));
                break;
            case "NFD":
                steps.Add(text => text.Normalize(NormalizationForm.FormD));
                break;
            case "NFKC":
                steps.Add(text => text.Normalize(NormalizationForm.FormKC));
                break;
            case "NFKD":
                steps.Add(text => text.Normalize(NormalizationForm.FormKD));
                break;
            case "Lowercase":
                steps.Add(text => text.ToLowerInvariant());
                break;
            case "Strip":
                bool left = !node.TryGetProperty("strip_left", out JsonElement l) || l.GetBoolean();
                bool right = !node.TryGetProperty("strip_right", out JsonElement r) || r.GetBoolean();
                steps.Add(text => left && right ? text.Trim() : left ? text.TrimStart() : right ? text.TrimEnd() : text);
                break;
            default:
                throw new NotSupportedException($"tokenizer.json normalizer type '{type}' is not supported (supported: Sequence, Prepend, Replace, NFC, NFD, NFKC, NFKD, Lowercase, Strip).");
        }
    }
}
