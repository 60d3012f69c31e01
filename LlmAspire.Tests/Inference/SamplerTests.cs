using LlmAspire.Inference.Engine;

namespace LlmAspire.Tests.Inference;

public sealed class SamplerTests
{
    private static readonly float[] Logits = [0.1f, 2.0f, 1.9f, -1f, 2.0f, 0.5f];

    [Fact]
    public void Sample_TemperatureZero_IsArgMaxFirstOnTies()
    {
        Assert.Equal(1, new Sampler(0, 1, seed: null).Sample(Logits));
    }

    [Fact]
    public void Sample_SameSeed_SameSequence()
    {
        var a = new Sampler(1.0f, 1.0f, seed: 123);
        var b = new Sampler(1.0f, 1.0f, seed: 123);

        int[] first = [.. Enumerable.Range(0, 50).Select(_ => a.Sample(Logits))];
        int[] second = [.. Enumerable.Range(0, 50).Select(_ => b.Sample(Logits))];

        Assert.Equal(first, second);
        Assert.True(first.Distinct().Count() > 2, "a temperature-1 sampler should visit several tokens");
    }

    [Fact]
    public void Sample_SmallTopP_KeepsOnlyTheNucleus()
    {
        var sampler = new Sampler(1.0f, 0.5f, seed: 5);

        int[] draws = [.. Enumerable.Range(0, 200).Select(_ => sampler.Sample(Logits))];

        // Tokens 1, 4 and 2 hold > 50 % of the mass; nothing else may be drawn.
        Assert.All(draws, token => Assert.Contains(token, new[] { 1, 4, 2 }));
    }

    [Theory]
    [InlineData(-0.1f, 1f)]
    [InlineData(float.NaN, 1f)]
    [InlineData(1f, 0f)]
    [InlineData(1f, 1.5f)]
    public void Constructor_OutOfRange_Throws(float temperature, float topP)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new Sampler(temperature, topP, null));
    }
}
