using System.Text.Json;

namespace LlmAspire.Inference.Tokenization;

/// <summary>
/// What a <c>post_processor</c> adds around a single sequence: the special tokens a TemplateProcessing puts
/// before and after <c>$A</c> (Llama's <c>&lt;s&gt;</c>, Llama 3's <c>&lt;|begin_of_text|&gt;</c>). Other processors
/// (ByteLevel, which only trims offsets) add nothing.
/// </summary>
internal sealed class PostProcessorTokens
{
    private PostProcessorTokens(IReadOnlyList<int> prefix, IReadOnlyList<int> suffix, string? prefixName)
    {
        Prefix = prefix;
        Suffix = suffix;
        PrefixName = prefixName;
    }

    /// <summary>Ids before the sequence.</summary>
    public IReadOnlyList<int> Prefix { get; }

    /// <summary>Ids after the sequence.</summary>
    public IReadOnlyList<int> Suffix { get; }

    /// <summary>The name of the first special token before the sequence, if any.</summary>
    public string? PrefixName { get; }

    /// <summary>Reads the <c>post_processor</c> node.</summary>
    public static PostProcessorTokens Parse(JsonElement node)
    {
        if (node.ValueKind != JsonValueKind.Object)
        {
            return new PostProcessorTokens([], [], null);
        }

        string type = TokenizerJson.TypeOf(node, "post_processor");
        if (type == "Sequence" && node.TryGetProperty("processors", out JsonElement processors))
        {
            foreach (JsonElement child in processors.EnumerateArray())
            {
                PostProcessorTokens found = Parse(child);
                if (found.Prefix.Count > 0 || found.Suffix.Count > 0)
                {
                    return found;
                }
            }

            return new PostProcessorTokens([], [], null);
        }

        if (type != "TemplateProcessing" || !node.TryGetProperty("single", out JsonElement single))
        {
            return new PostProcessorTokens([], [], null);
        }

        var prefix = new List<int>();
        var suffix = new List<int>();
        string? prefixName = null;
        bool seenSequence = false;
        foreach (JsonElement item in single.EnumerateArray())
        {
            if (item.TryGetProperty("Sequence", out _))
            {
                seenSequence = true;
                continue;
            }

            if (!item.TryGetProperty("SpecialToken", out JsonElement special))
            {
                continue;
            }

            string name = special.GetProperty("id").GetString() ?? string.Empty;
            List<int> ids = IdsOf(node, name);
            if (seenSequence)
            {
                suffix.AddRange(ids);
            }
            else
            {
                prefixName ??= name;
                prefix.AddRange(ids);
            }
        }

        return new PostProcessorTokens(prefix, suffix, prefixName);
    }

    private static List<int> IdsOf(JsonElement node, string name)
    {
        var ids = new List<int>();
        if (node.TryGetProperty("special_tokens", out JsonElement specials) && specials.TryGetProperty(name, out JsonElement entry)
            && entry.TryGetProperty("ids", out JsonElement idList))
        {
            foreach (JsonElement id in idList.EnumerateArray())
            {
                ids.Add(id.GetInt32());
            }
        }

        return ids;
    }
}
