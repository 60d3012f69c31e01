namespace LlmAspire.Inference.Engine.Speculation;

/// <summary>
/// Prompt lookup: proposes the tokens that followed the latest earlier occurrence of the sequence's longest matching
/// suffix (vLLM's <c>ngram</c> speculator, llama.cpp's prompt-lookup decoding). Pure and allocation-free.
/// </summary>
internal static class NgramProposer
{
    /// <summary>
    /// Writes up to <c>draft.Length</c> proposed continuations of <paramref name="tokens"/> (prompt and generated text)
    /// into <paramref name="draft"/> and returns how many. The suffix of n tokens is looked up for n from
    /// <paramref name="maxNgram"/> down to <paramref name="minNgram"/>; the longest that occurred before wins, at its latest
    /// occurrence. One backward scan serves every n: each earlier position holding the last token is extended backwards
    /// up to <paramref name="maxNgram"/>, and the scan stops at the first full-length match, so a step costs
    /// O(tokens × maxNgram) at worst and usually far less. When the occurrence overlaps the suffix (a loop of period p),
    /// the proposal continues the loop rather than stopping after p tokens.
    /// </summary>
    public static int Propose(ReadOnlySpan<int> tokens, int minNgram, int maxNgram, Span<int> draft)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(minNgram, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxNgram, minNgram);
        int length = tokens.Length;
        if (draft.IsEmpty || length <= minNgram)
        {
            return 0;
        }

        int last = tokens[length - 1];
        int longest = Math.Min(maxNgram, length - 1);
        int bestEnd = -1, bestMatch = 0;
        for (int end = length - 2; end >= 0; end--)
        {
            if (tokens[end] != last)
            {
                continue;
            }

            int limit = Math.Min(longest, end + 1);
            int match = 1;
            while (match < limit && tokens[end - match] == tokens[length - 1 - match])
            {
                match++;
            }

            if (match > bestMatch)
            {
                bestMatch = match;
                bestEnd = end;
                if (match == longest)
                {
                    break;
                }
            }
        }

        if (bestMatch < minNgram)
        {
            return 0;
        }

        // The tokens after the occurrence, up to the end of the sequence; past that, the loop they form repeats.
        int period = length - 1 - bestEnd;
        for (int i = 0; i < draft.Length; i++)
        {
            draft[i] = i < period ? tokens[bestEnd + 1 + i] : draft[i - period];
        }

        return draft.Length;
    }
}
