using LlmAspire.Inference.Engine.Speculation;

namespace LlmAspire.Tests.Inference.Engine;

public sealed class NgramProposerTests
{
    [Fact]
    public void Propose_LongestSuffixWins_OverAMoreRecentShorterOne()
    {
        int[] tokens = [1, 2, 3, 9, 5, 3, 7, 1, 2, 3];

        Assert.Equal([9, 5, 3], Propose(tokens, minNgram: 1, maxNgram: 3, k: 3));
        // Looking at one token only, the latest 3 (followed by 7) wins.
        Assert.Equal([7, 1, 2], Propose(tokens, minNgram: 1, maxNgram: 1, k: 3));
    }

    [Fact]
    public void Propose_AmongEqualMatches_TakesTheLatest()
    {
        int[] tokens = [4, 5, 1, 4, 5, 2, 6, 4, 5];

        Assert.Equal([2, 6], Propose(tokens, minNgram: 2, maxNgram: 2, k: 2));
    }

    [Fact]
    public void Propose_NoEarlierOccurrenceOfAtLeastMinNgram_ProposesNothing()
    {
        Assert.Empty(Propose([1, 2, 3, 4, 5], minNgram: 1, maxNgram: 4, k: 4));
        // "2" occurred before, but a single token is below the minimum of 2.
        Assert.Empty(Propose([1, 2, 9, 2], minNgram: 2, maxNgram: 4, k: 4));
        Assert.Equal([9, 2], Propose([1, 2, 9, 2], minNgram: 1, maxNgram: 4, k: 2));
        Assert.Empty(Propose([7], minNgram: 1, maxNgram: 4, k: 4));
    }

    [Fact]
    public void Propose_OccurrenceOverlappingTheSuffix_ContinuesTheLoop()
    {
        Assert.Equal([7, 8, 7, 8, 7], Propose([7, 8, 7, 8], minNgram: 1, maxNgram: 4, k: 5));
        Assert.Equal([5, 5, 5], Propose([1, 5, 5], minNgram: 1, maxNgram: 4, k: 3));
    }

    [Fact]
    public void Propose_StopsAtTheDraftLength()
    {
        int[] tokens = [10, 11, 12, 13, 14, 15, 10, 11];

        Assert.Equal([12], Propose(tokens, minNgram: 2, maxNgram: 3, k: 1));
        Assert.Empty(Propose(tokens, minNgram: 2, maxNgram: 3, k: 0));
    }

    [Fact]
    public void Propose_MatchAtTheStartOfALongSequence_IsFound()
    {
        // 1, 2, 3 at the start only; then 100 000 tokens that never contain 1; then 1, 2, 3 again.
        int[] tokens = [1, 2, 3, 4, .. Enumerable.Range(0, 100_000).Select(i => 5 + (i % 1000)), 1, 2, 3];

        Assert.Equal([4, 5, 6], Propose(tokens, minNgram: 3, maxNgram: 3, k: 3));
    }

    private static int[] Propose(int[] tokens, int minNgram, int maxNgram, int k)
    {
        int[] draft = new int[k];
        int count = NgramProposer.Propose(tokens, minNgram, maxNgram, draft);
        return draft[..count];
    }
}
