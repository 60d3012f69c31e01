using System.Globalization;
using System.Text;
using System.Text.Json;

namespace LlmAspire.Inference.Tokenization;

/// <summary>
/// The <c>decoder</c> of a <c>tokenizer.json</c>, reduced to what it does to bytes: each piece maps to the raw bytes
/// it stands for (ByteLevel: GPT-2's alphabet back to bytes; ByteFallback: <c>&lt;0xXX&gt;</c> to its byte; Replace
/// and Metaspace: "▁" back to a space), and the joined text then loses the leading characters that Strip or
/// Metaspace remove. Supported: Sequence, ByteLevel, ByteFallback, Fuse, Replace, Strip, Metaspace.
/// </summary>
internal sealed class TokenDecoder
{
    private readonly List<(string From, string To)> _replacements = [];

    private TokenDecoder()
    {
    }

    /// <summary>Pieces are in GPT-2's byte alphabet.</summary>
    public bool ByteLevel { get; private set; }

    /// <summary><c>&lt;0xXX&gt;</c> pieces stand for one byte.</summary>
    public bool ByteFallback { get; private set; }

    /// <summary>The character Strip removes.</summary>
    public char StripCharacter { get; private set; } = ' ';

    /// <summary>How many leading <see cref="StripCharacter"/>s decoding removes (Llama's dummy-prefix space).</summary>
    public int StripStart { get; private set; }

    /// <summary>How many trailing <see cref="StripCharacter"/>s decoding removes.</summary>
    public int StripStop { get; private set; }

    /// <summary>Reads the <c>decoder</c> node; null means pieces decode as themselves (byte-level when the pre-tokenizer is).</summary>
    public static TokenDecoder Parse(JsonElement node, bool byteLevelPreTokenizer, bool byteFallbackModel)
    {
        var decoder = new TokenDecoder();
        if (node.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined)
        {
            decoder.ByteLevel = byteLevelPreTokenizer;
            decoder.ByteFallback = byteFallbackModel;
            return decoder;
        }

        decoder.Add(node);

        // A model with byte fallback emits <0xXX> pieces; they stand for bytes even where the decoder (unusually)
        // lacks a ByteFallback step, in which case Hugging Face would print them literally.
        decoder.ByteFallback |= byteFallbackModel && !decoder.ByteLevel;
        return decoder;
    }

    /// <summary>The raw bytes of a vocabulary piece.</summary>
    public byte[] PieceBytes(string piece)
    {
        if (ByteLevel)
        {
            return ByteLevelAlphabet.Decode(piece);
        }

        if (ByteFallback && piece.Length == 6 && piece.StartsWith("<0x", StringComparison.Ordinal) && piece[5] == '>'
            && byte.TryParse(piece.AsSpan(3, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out byte value))
        {
            return [value];
        }

        foreach ((string from, string to) in _replacements)
        {
            piece = piece.Replace(from, to, StringComparison.Ordinal);
        }

        return Encoding.UTF8.GetBytes(piece);
    }

    /// <summary>Applies Strip to the decoded text.</summary>
    public string Finish(string text)
    {
        int start = 0;
        while (start < StripStart && start < text.Length && text[start] == StripCharacter)
        {
            start++;
        }

        int end = text.Length;
        for (int i = 0; i < StripStop && end > start && text[end - 1] == StripCharacter; i++)
        {
            end--;
        }

        return start == 0 && end == text.Length ? text : text[start..end];
    }

    private void Add(JsonElement node)
    {
        string type = TokenizerJson.TypeOf(node, "decoder");
        switch (type)
        {
            case "Sequence":
                foreach (JsonElement child in node.GetProperty("decoders").EnumerateArray())
                {
                    Add(child);
                }

                break;
            case "ByteLevel":
                ByteLevel = true;
                break;
            case "ByteFallback":
                ByteFallback = true;
                break;
            case "Fuse":
                break;
            case "Replace":
                JsonElement pattern = node.GetProperty("pattern");
                if (!pattern.TryGetProperty("String", out JsonElement from))
                {
                    throw new NotSupportedException("tokenizer.json Replace decoders with a Regex pattern are not supported.");
                }

                _replacements.Add((from.GetString() ?? string.Empty, node.GetProperty("content").GetString() ?? string.Empty));
                break;
            case "Strip":
                string content = node.TryGetProperty("content", out JsonElement c) ? c.GetString() ?? " " : " ";
                if (content.Length != 1)
                {
                    throw new NotSupportedException($"tokenizer.json Strip decoder content '{content}' is not one character.");
                }

                StripCharacter = content[0];
                StripStart = node.TryGetProperty("start", out JsonElement s) ? s.GetInt32() : 0;
                StripStop = node.TryGetProperty("stop", out JsonElement e) ? e.GetInt32() : 0;
                break;
            case "Metaspace":
                string replacement = node.TryGetProperty("replacement", out JsonElement r) ? r.GetString() ?? "▁" : "▁";
                _replacements.Add((replacement, " "));
                bool prepends = node.TryGetProperty("prepend_scheme", out JsonElement ps) && ps.ValueKind == JsonValueKind.String
                    ? ps.GetString() != "never"
                    : !node.TryGetProperty("add_prefix_space", out JsonElement aps) || aps.ValueKind != JsonValueKind.False;
                if (prepends)
                {
                    StripCharacter = ' ';
                    StripStart = 1;
                }

                break;
            default:
                throw new NotSupportedException($"tokenizer.json decoder type '{type}' is not supported (supported: Sequence, ByteLevel, ByteFallback, Fuse, Replace, Strip, Metaspace).");
        }
    }
}
