namespace LlmAspire.Inference.Tokenization;

/// <summary>
/// Splits text on added tokens: at each position the longest token that matches wins (leftmost-longest, as
/// Hugging Face's Aho-Corasick matcher), honoring lstrip/rstrip (neighbouring whitespace is absorbed) and
/// single_word (only between non-word characters).
/// </summary>
internal sealed class AddedTokenSplitter
{
    private readonly Dictionary<char, AddedToken[]> _byFirstChar;

    public AddedTokenSplitter(IEnumerable<AddedToken> tokens)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        _byFirstChar = tokens
            .Where(t => t.Content.Length > 0)
            .GroupBy(t => t.Content[0])
            .ToDictionary(g => g.Key, g => g.OrderByDescending(t => t.Content.Length).ToArray());
    }

    /// <summary>Whether there is nothing to split on.</summary>
    public bool IsEmpty => _byFirstChar.Count == 0;

    /// <summary>Splits <paramref name="text"/> into text stretches and added tokens, in order.</summary>
    public List<Segment> Split(string text)
    {
        var segments = new List<Segment>();
        if (IsEmpty)
        {
            segments.Add(new Segment(text, 0, -1));
            return segments;
        }

        int textStart = 0;
        int i = 0;
        while (i < text.Length)
        {
            AddedToken? match = Match(text, i);
            if (match is null)
            {
                i++;
                continue;
            }

            int start = i;
            int end = i + match.Content.Length;
            if (match.LeftStrip)
            {
                while (start > textStart && char.IsWhiteSpace(text[start - 1]))
                {
                    start--;
                }
            }

            if (match.RightStrip)
            {
                while (end < text.Length && char.IsWhiteSpace(text[end]))
                {
                    end++;
                }
            }

            if (start > textStart)
            {
                segments.Add(new Segment(text[textStart..start], textStart, -1));
            }

            segments.Add(new Segment(string.Empty, start, match.Id));
            textStart = end;
            i = end;
        }

        if (textStart < text.Length)
        {
            segments.Add(new Segment(text[textStart..], textStart, -1));
        }

        return segments;
    }

    private AddedToken? Match(string text, int position)
    {
        if (!_byFirstChar.TryGetValue(text[position], out AddedToken[]? candidates))
        {
            return null;
        }

        foreach (AddedToken token in candidates)
        {
            if (!text.AsSpan(position).StartsWith(token.Content, StringComparison.Ordinal))
            {
                continue;
            }

            if (token.SingleWord && !IsWordBoundary(text, position, position + token.Content.Length))
            {
                continue;
            }

            return token;
        }

        return null;
    }

    private static bool IsWordBoundary(string text, int start, int end) =>
        (start == 0 || !IsWordChar(text[start - 1])) && (end == text.Length || !IsWordChar(text[end]));

    private static bool IsWordChar(char c) => char.IsLetterOrDigit(c) || c == '_';

    /// <summary>A stretch of text (<see cref="TokenId"/> -1) or an added token, with where it starts in the input.</summary>
    internal readonly record struct Segment(string Text, int Start, int TokenId);
}
