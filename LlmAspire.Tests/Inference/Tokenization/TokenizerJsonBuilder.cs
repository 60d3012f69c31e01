using System.Text;
using System.Text.Json.Nodes;

namespace LlmAspire.Tests.Inference.Tokenization;

/// <summary>Builds small tokenizer.json documents for tests.</summary>
internal static class TokenizerJsonBuilder
{
    /// <summary>GPT-2's byte → character map, written out independently of the code under test.</summary>
    public static char ByteChar(int b)
    {
        int next = 256;
        for (int i = 0; i < 256; i++)
        {
            bool printable = i is >= 33 and <= 126 or >= 161 and <= 172 or >= 174 and <= 255;
            if (i == b)
            {
                return printable ? (char)i : (char)next;
            }

            if (!printable)
            {
                next++;
            }
        }

        throw new ArgumentOutOfRangeException(nameof(b));
    }

    /// <summary>The byte-level spelling of <paramref name="text"/> (space → Ġ, newline → Ċ).</summary>
    public static string ByteLevel(string text) => string.Concat(Encoding.UTF8.GetBytes(text).Select(b => ByteChar(b)));

    /// <summary>
    /// A byte-level BPE: ids 0–255 are the bytes (id = byte value), then one id per merge result in order, then
    /// <paramref name="extraVocab"/>; added tokens follow with the ids given.
    /// </summary>
    public static string ByteLevelBpe(
        string[] merges,
        JsonNode? preTokenizer = null,
        JsonNode? postProcessor = null,
        (int Id, string Content, bool Special, bool RStrip)[]? added = null,
        string[]? extraVocab = null,
        bool ignoreMerges = false)
    {
        var vocab = new JsonObject();
        for (int b = 0; b < 256; b++)
        {
            vocab[ByteChar(b).ToString()] = b;
        }

        int id = 256;
        var mergeArray = new JsonArray();
        foreach (string merge in merges)
        {
            string[] parts = merge.Split(' ');
            vocab[parts[0] + parts[1]] = id++;
            mergeArray.Add(merge);
        }

        foreach (string piece in extraVocab ?? [])
        {
            vocab[piece] = id++;
        }

        return new JsonObject
        {
            ["version"] = "1.0",
            ["added_tokens"] = AddedTokens(added),
            ["normalizer"] = null,
            ["pre_tokenizer"] = preTokenizer ?? new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = true, ["use_regex"] = true },
            ["post_processor"] = postProcessor ?? new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = true, ["trim_offsets"] = false, ["use_regex"] = true },
            ["decoder"] = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = true, ["trim_offsets"] = true, ["use_regex"] = true },
            ["model"] = new JsonObject
            {
                ["type"] = "BPE",
                ["dropout"] = null,
                ["unk_token"] = null,
                ["continuing_subword_prefix"] = "",
                ["end_of_word_suffix"] = "",
                ["fuse_unk"] = false,
                ["byte_fallback"] = false,
                ["ignore_merges"] = ignoreMerges,
                ["vocab"] = vocab,
                ["merges"] = mergeArray,
            },
        }.ToJsonString();
    }

    /// <summary>Llama 3's pre-tokenizer: its Split regex, then ByteLevel without a regex of its own.</summary>
    public static JsonNode Llama3PreTokenizer() => new JsonObject
    {
        ["type"] = "Sequence",
        ["pretokenizers"] = new JsonArray(
            new JsonObject
            {
                ["type"] = "Split",
                ["pattern"] = new JsonObject { ["Regex"] = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+" },
                ["behavior"] = "Isolated",
                ["invert"] = false,
            },
            new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = true, ["use_regex"] = false }),
    };

    /// <summary>A TemplateProcessing that puts <paramref name="name"/> (id <paramref name="id"/>) before the sequence.</summary>
    public static JsonNode TemplateWithBos(string name, int id) => new JsonObject
    {
        ["type"] = "TemplateProcessing",
        ["single"] = new JsonArray(
            new JsonObject { ["SpecialToken"] = new JsonObject { ["id"] = name, ["type_id"] = 0 } },
            new JsonObject { ["Sequence"] = new JsonObject { ["id"] = "A", ["type_id"] = 0 } }),
        ["pair"] = new JsonArray(),
        ["special_tokens"] = new JsonObject { [name] = new JsonObject { ["id"] = name, ["ids"] = new JsonArray(id), ["tokens"] = new JsonArray(name) } },
    };

    /// <summary>The <c>added_tokens</c> array.</summary>
    public static JsonArray AddedTokens((int Id, string Content, bool Special, bool RStrip)[]? added)
    {
        var array = new JsonArray();
        foreach (var (id, content, special, rstrip) in added ?? [])
        {
            array.Add(new JsonObject
            {
                ["id"] = id,
                ["content"] = content,
                ["single_word"] = false,
                ["lstrip"] = false,
                ["rstrip"] = rstrip,
                ["normalized"] = false,
                ["special"] = special,
            });
        }

        return array;
    }
}
