using LlmAspire.Inference.Engine;

namespace LlmAspire.Tests.Inference;

public sealed class StopSequenceMatcherTests
{
    [Fact]
    public void Push_StopSplitAcrossTokens_HoldsBackThenCutsBeforeIt()
    {
        var matcher = new StopSequenceMatcher(["END"]);

        Assert.Equal("abc ", matcher.Push("abc E"));
        Assert.Equal(string.Empty, matcher.Push("N"));
        Assert.Equal(string.Empty, matcher.Push("Dxyz"));
        Assert.True(matcher.Stopped);
        Assert.Equal(string.Empty, matcher.Flush());
    }

    [Fact]
    public void Push_FalseStart_ReleasesHeldText()
    {
        var matcher = new StopSequenceMatcher(["END"]);

        Assert.Equal("x", matcher.Push("xE"));
        Assert.Equal("EX", matcher.Push("X"));
        Assert.False(matcher.Stopped);
        Assert.Equal("E", matcher.Push("E") + matcher.Flush());
    }

    [Fact]
    public void Push_SeveralStops_EarliestWins()
    {
        var matcher = new StopSequenceMatcher(["two", "one"]);

        Assert.Equal("zero ", matcher.Push("zero one two"));
        Assert.True(matcher.Stopped);
    }

    [Fact]
    public void Push_NoStops_PassesThrough()
    {
        var matcher = new StopSequenceMatcher(null);

        Assert.Equal("anything", matcher.Push("anything"));
        Assert.Equal(string.Empty, matcher.Flush());
    }
}
