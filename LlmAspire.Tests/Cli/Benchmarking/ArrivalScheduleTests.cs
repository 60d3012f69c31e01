using LlmAspire.Cli.Benchmarking;

namespace LlmAspire.Tests.Cli.Benchmarking;

public sealed class ArrivalScheduleTests
{
    [Fact]
    public void Offsets_InfiniteRate_SendsEverythingAtOnce() =>
        Assert.All(ArrivalSchedule.Offsets(10, double.PositiveInfinity, 1, 0), offset => Assert.Equal(0, offset));

    [Theory]
    [InlineData(4.0, 1.0)] // Poisson: coefficient of variation² 1
    [InlineData(4.0, 0.25)] // bursty: CV² 4
    [InlineData(2.0, 4.0)] // steady: CV² 0.25
    public void Offsets_GammaIntervals_MeanIsOneOverRateAndCv2IsOneOverBurstiness(double rate, double burstiness)
    {
        double[] offsets = ArrivalSchedule.Offsets(40_001, rate, burstiness, seed: 42);
        double[] gaps = [.. offsets.Skip(1).Zip(offsets, (later, earlier) => later - earlier)];
        double mean = gaps.Average();
        double variance = gaps.Sum(g => (g - mean) * (g - mean)) / gaps.Length;
        Assert.Equal(1 / rate, mean, 1 / rate * 0.03);
        Assert.Equal(1 / burstiness, variance / (mean * mean), 1 / burstiness * 0.08);
        Assert.All(gaps, gap => Assert.True(gap >= 0));
    }

    [Fact]
    public void Offsets_SameSeed_SameSchedule() =>
        Assert.Equal(ArrivalSchedule.Offsets(50, 3, 0.5, 7), ArrivalSchedule.Offsets(50, 3, 0.5, 7));
}
