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

    [Fact]
    public void Sample_TopKOne_IsGreedy()
    {
        var sampler = new Sampler(new GenerationRequest([], 1, Temperature: 1.5f, Seed: 1) { TopK = 1 });

        Assert.All(Enumerable.Range(0, 50), _ => Assert.Equal(1, sampler.Sample(Logits)));
    }

    [Fact]
    public void Sample_MinP_DropsUnlikelyTokens()
    {
        var sampler = new Sampler(new GenerationRequest([], 1, Temperature: 1f, Seed: 2) { MinP = 0.5f });

        int[] draws = [.. Enumerable.Range(0, 300).Select(_ => sampler.Sample(Logits))];

        // p(2)/p(1) = e^-0.1 passes a 0.5 floor; 0.5 - 2.0 = e^-1.5 does not.
        Assert.All(draws, token => Assert.Contains(token, new[] { 1, 2, 4 }));
    }

    [Fact]
    public void Sample_LogitBias_CanForceAToken()
    {
        var sampler = new Sampler(new GenerationRequest([], 1, Temperature: 0) { LogitBias = new Dictionary<int, float> { [3] = 100f } });

        Assert.Equal(3, sampler.Sample(Logits));
    }

    [Fact]
    public void Sample_PresencePenalty_StopsGreedyRepeating()
    {
        var sampler = new Sampler(new GenerationRequest([], 1, Temperature: 0) { PresencePenalty = 1f });

        int[] draws = [.. Enumerable.Range(0, 3).Select(_ => sampler.Sample(Logits))];

        Assert.Equal(new[] { 1, 4, 2 }, draws);
    }

    [Fact]
    public void Sample_RepetitionPenalty_AppliesToPromptTokens()
    {
        var sampler = new Sampler(new GenerationRequest([1, 4], 1, Temperature: 0) { RepetitionPenalty = 1.2f });

        Assert.Equal(2, sampler.Sample(Logits)); // 2.0 / 1.2 < 1.9
    }
}
