using LlmAspire.Cli.Benchmarking;

namespace LlmAspire.Tests.Cli.Benchmarking;

public sealed class PercentilesTests
{
    [Theory]
    [InlineData(0, 1.0)]
    [InlineData(50, 2.5)] // rank 1.5: 2 + 0.5 · (3 − 2)
    [InlineData(90, 3.7)] // rank 2.7: 3 + 0.7 · (4 − 3)
    [InlineData(99, 3.97)] // rank 2.97
    [InlineData(100, 4.0)]
    public void Of_FourValues_InterpolatesLinearlyAsNumpy(double percent, double expected) =>
        Assert.Equal(expected, Percentiles.Of([4.0, 1.0, 3.0, 2.0], percent), 10);

    [Fact]
    public void Of_OneValue_IsThatValue() => Assert.Equal(7.5, Percentiles.Of([7.5], 99));

    [Fact]
    public void Of_NoValues_IsNaN() => Assert.True(double.IsNaN(Percentiles.Of([], 50)));

    [Fact]
    public void Summary_ThreeValues_HandComputed()
    {
        LatencySummary summary = LatencySummary.From([50.0, 200.0, 100.0]);
        Assert.Equal(350.0 / 3, summary.Mean, 10);
        Assert.Equal(100, summary.Median, 10);
        Assert.Equal(180, summary.P90, 10); // rank 1.8 over [50, 100, 200]
        Assert.Equal(198, summary.P99, 10);
        Assert.Equal(Math.Sqrt(((50 - (350.0 / 3)) * (50 - (350.0 / 3)) + (200 - (350.0 / 3)) * (200 - (350.0 / 3)) + (100 - (350.0 / 3)) * (100 - (350.0 / 3))) / 3), summary.Std, 10);
        Assert.Equal(3, summary.Count);
    }
}
