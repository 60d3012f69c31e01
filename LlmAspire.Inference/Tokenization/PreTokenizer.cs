using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace LlmAspire.Inference.Tokenization;

/// <summary>
/// The <c>pre_tokenizer</c> of a <c>tokenizer.json</c>: splits a normalized stretch of text into words that BPE
/// encodes one by one. Supported: Sequence, Split (regex or string, every behavior, invert), ByteLevel
/// (add_prefix_space, use_regex; maps bytes to GPT-2's alphabet), Metaspace (prepend_scheme, split), Digits,
/// Whitespace, WhitespaceSplit; anything else is a <see cref="NotSupportedException"/> naming the type.
/// </summary>
/// <remarks>
/// Regexes run on .NET's engine, which classifies UTF-16 code units: a letter or digit outside the Basic
/// Multilingual Plane (rare: CJK extension B, mathematical alphanumerics) is not <c>\p{L}</c>/<c>\p{N}</c> there as
/// it is in the Rust engine, so such text may split differently. It still round-trips.
/// </remarks>
internal sealed class PreTokenizer
{
    /// <summary>GPT-2's word pattern, used by ByteLevel with use_regex.</summary>
    public const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    private static readonly Regex Gpt2Regex = new(Gpt2Pattern, RegexOptions.Compiled | RegexOptions.CultureInvariant);
    private static readonly Regex WhitespaceRegex = new(@"\w+|[^\w\s]+", RegexOptions.Compiled | RegexOptions.CultureInvariant);
    private static readonly Regex WhitespaceSplitRegex = new(@"\s+", RegexOptions.Compiled | RegexOptions.CultureInvariant);
    private static readonly Regex DigitRegex = new(@"\p{Nd}", RegexOptions.Compiled | RegexOptions.CultureInvariant);
    private static readonly Regex DigitsRegex = new(@"\p{Nd}+", RegexOptions.Compiled | RegexOptions.CultureInvariant);

    private readonly Func<List<Piece>, List<Piece>>[] _steps;

    private PreTokenizer(Func<List<Piece>, List<Piece>>[] steps, bool byteLevel, string? metaspace)
    {
        _steps = steps;
        IsByteLevel = byteLevel;
        Metaspace = metaspace;
    }

    /// <summary>No pre-tokenization: each stretch of text is one word.</summary>
    public static PreTokenizer None { get; } = new([], byteLevel: false, metaspace: null);

    /// <summary>Whether a ByteLevel step maps the words to GPT-2's byte alphabet.</summary>
    public bool IsByteLevel { get; }

    /// <summary>The replacement character of a Metaspace step ("▁"), or null.</summary>
    public string? Metaspace { get; }

    /// <summary>Whether there is no step.</summary>
    public bool IsEmpty => _steps.Length == 0;

    /// <summary>Splits <paramref name="text"/>; <paramref name="atStart"/> says it starts the whole input.</summary>
    public List<Piece> Split(string text, bool atStart)
    {
        var pieces = new List<Piece> { new(text, atStart) };
        foreach (Func<List<Piece>, List<Piece>> step in _steps)
        {
            pieces = step(pieces);
        }

        return pieces;
    }

    /// <summary>Reads the <c>pre_tokenizer</c> node (null or absent: none).</summary>
    public static PreTokenizer Parse(JsonElement node)
    {
        if (node.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined)
        {
            return None;
        }

        var steps = new List<Func<List<Piece>, List<Piece>>>();
        bool byteLevel = false;
        string? metaspace = null;
        Add(node, steps, ref byteLevel, ref metaspace);
        return new PreTokenizer([.. steps], byteLevel, metaspace);
    }

    private static void Add(JsonElement node, List<Func<List<Piece>, List<Piece>>> steps, ref bool byteLevel, ref string? metaspace)
    {
        string type = TokenizerJson.TypeOf(node, "pre_tokenizer");
        switch (type)
        {
            case "Sequence":
                foreach (JsonElement child in node.GetProperty("pretokenizers").EnumerateArray())
                {
                    Add(child, steps, ref byteLevel, ref metaspace);
                }

                break;
            case "Split":
                Regex regex = TokenizerJson.ParsePattern(node.GetProperty("pattern"), "Split pre_tokenizer");
                Behavior behavior = ParseBehavior(node.TryGetProperty("behavior", out JsonElement b) ? b.GetString() : "Isolated");
                bool invert = node.TryGetProperty("invert", out JsonElement inv) && inv.GetBoolean();
                steps.Add(pieces => SplitAll(pieces, regex, behavior, invert));
                break;
            case "ByteLevel":
                bool addPrefixSpace = Bool(node, "add_prefix_space", true);
                bool useRegex = Bool(node, "use_regex", true);
                byteLevel = true;
                steps.Add(pieces => ByteLevel(pieces, addPrefixSpace, useRegex));
                break;
            case "Metaspace":
                string replacement = node.TryGetProperty("replacement", out JsonElement rep) ? rep.GetString() ?? "▁" : "▁";
                string scheme = node.TryGetProperty("prepend_scheme", out JsonElement ps) && ps.ValueKind == JsonValueKind.String
                    ? ps.GetString()!
                    : Bool(node, "add_prefix_space", true) ? "always" : "never";
                bool split = Bool(node, "split", true);
                if (scheme is not ("always" or "first" or "never"))
                {
                    throw new NotSupportedException($"tokenizer.json Metaspace prepend_scheme '{scheme}' is not supported (always, first, never).");
                }

                metaspace = replacement;
                steps.Add(pieces => MetaspaceSplit(pieces, replacement, scheme, split));
                break;
            case "Digits":
                bool individual = Bool(node, "individual_digits", false);
                steps.Add(pieces => SplitAll(pieces, individual ? DigitRegex : DigitsRegex, individual ? Behavior.Isolated : Behavior.Contiguous, invert: false));
                break;
            case "Whitespace":
                steps.Add(pieces => SplitAll(pieces, WhitespaceRegex, Behavior.Removed, invert: true));
                break;
            case "WhitespaceSplit":
                steps.Add(pieces => SplitAll(pieces, WhitespaceSplitRegex, Behavior.Removed, invert: false));
                break;
            default:
                throw new NotSupportedException($"tokenizer.json pre_tokenizer type '{type}' is not supported (supported: Sequence, Split, ByteLevel, Metaspace, Digits, Whitespace, WhitespaceSplit).");
        }
    }

    private static bool Bool(JsonElement node, string name, bool fallback) =>
        node.TryGetProperty(name, out JsonElement value) && value.ValueKind is JsonValueKind.True or JsonValueKind.False ? value.GetBoolean() : fallback;

    private static Behavior ParseBehavior(string? behavior) => behavior switch
    {
        "Removed" => Behavior.Removed,
        "Isolated" => Behavior.Isolated,
        "MergedWithPrevious" => Behavior.MergedWithPrevious,
        "MergedWithNext" => Behavior.MergedWithNext,
        "Contiguous" => Behavior.Contiguous,
        _ => throw new NotSupportedException($"tokenizer.json Split behavior '{behavior}' is not supported."),
    };

    private static List<Piece> ByteLevel(List<Piece> pieces, bool addPrefixSpace, bool useRegex)
    {
        var result = new List<Piece>(pieces.Count * 2);
        foreach (Piece piece in pieces)
        {
            string text = addPrefixSpace && !piece.Text.StartsWith(' ') ? " " + piece.Text : piece.Text;
            if (useRegex)
            {
                bool first = piece.AtStart;
                foreach (ValueMatch match in Gpt2Regex.EnumerateMatches(text))
                {
                    result.Add(new Piece(ToByteLevel(text.AsSpan(match.Index, match.Length)), first && match.Index == 0));
                }
            }
            else
            {
                result.Add(new Piece(ToByteLevel(text), piece.AtStart));
            }
        }

        return result;
    }

    private static string ToByteLevel(ReadOnlySpan<char> text)
    {
        int count = Encoding.UTF8.GetByteCount(text);
        Span<byte> bytes = count <= 1024 ? stackalloc byte[count] : new byte[count];
        Encoding.UTF8.GetBytes(text, bytes);
        return ByteLevelAlphabet.Encode(bytes);
    }

    private static List<Piece> MetaspaceSplit(List<Piece> pieces, string replacement, string scheme, bool split)
    {
        var result = new List<Piece>(pieces.Count);
        foreach (Piece piece in pieces)
        {
            string text = piece.Text.Replace(" ", replacement, StringComparison.Ordinal);
            bool prepend = scheme == "always" || (scheme == "first" && piece.AtStart);
            if (prepend && !text.StartsWith(replacement, StringComparison.Ordinal))
            {
                text = replacement + text;
            }

            if (!split)
            {
                result.Add(piece with { Text = text });
                continue;
            }

            int start = 0;
            for (int i = 1; i <= text.Length; i++)
            {
                if (i == text.Length || string.CompareOrdinal(text, i, replacement, 0, replacement.Length) == 0)
                {
                    if (i > start)
                    {
                        result.Add(new Piece(text[start..i], piece.AtStart && start == 0));
                    }

                    start = i;
                }
            }
        }

        return result;
    }

    private static List<Piece> SplitAll(List<Piece> pieces, Regex regex, Behavior behavior, bool invert)
    {
        var result = new List<Piece>(pieces.Count * 2);
        var spans = new List<(int Start, int End, bool Match)>();
        foreach (Piece piece in pieces)
        {
            string text = piece.Text;
            spans.Clear();
            int last = 0;
            foreach (ValueMatch m in regex.EnumerateMatches(text))
            {
                if (m.Length == 0)
                {
                    continue;
                }

                if (m.Index > last)
                {
                    spans.Add((last, m.Index, invert));
                }

                spans.Add((m.Index, m.Index + m.Length, !invert));
                last = m.Index + m.Length;
            }

            if (last < text.Length)
            {
                spans.Add((last, text.Length, invert));
            }

            foreach ((int start, int end) in Apply(spans, behavior))
            {
                result.Add(new Piece(text[start..end], piece.AtStart && start == 0));
            }
        }

        return result;
    }

    private static List<(int Start, int End)> Apply(List<(int Start, int End, bool Match)> spans, Behavior behavior)
    {
        var output = new List<(int Start, int End)>(spans.Count);
        switch (behavior)
        {
            case Behavior.Removed:
                output.AddRange(spans.Where(s => !s.Match).Select(s => (s.Start, s.End)));
                break;
            case Behavior.Isolated:
                output.AddRange(spans.Select(s => (s.Start, s.End)));
                break;
            case Behavior.Contiguous:
                bool previousWasMatch = false;
                foreach ((int start, int end, bool match) in spans)
                {
                    if (match && previousWasMatch)
                    {
                        output[^1] = (output[^1].Start, end);
                    }
                    else
                    {
                        output.Add((start, end));
                    }

                    previousWasMatch = match;
                }

                break;
            case Behavior.MergedWithPrevious:
                bool previousWasText = false;
                foreach ((int start, int end, bool match) in spans)
                {
                    if (match && previousWasText)
                    {
                        output[^1] = (output[^1].Start, end);
                        previousWasText = false;
                    }
                    else
                    {
                        output.Add((start, end));
                        previousWasText = !match;
                    }
                }

                break;
            case Behavior.MergedWithNext:
                int pending = -1;
                foreach ((int start, int end, bool match) in spans)
                {
                    if (match)
                    {
                        if (pending >= 0)
                        {
                            output.Add((pending, start));
                        }

                        pending = start;
                    }
                    else
                    {
                        output.Add((pending >= 0 ? pending : start, end));
                        pending = -1;
                    }
                }

                if (pending >= 0)
                {
                    output.Add((pending, spans[^1].End));
                }

                break;
        }

        return output;
    }

    /// <summary>A word and whether it starts the whole input.</summary>
    internal readonly record struct Piece(string Text, bool AtStart);

    private enum Behavior
    {
        Removed,
        Isolated,
        MergedWithPrevious,
        MergedWithNext,
        Contiguous,
    }
}
