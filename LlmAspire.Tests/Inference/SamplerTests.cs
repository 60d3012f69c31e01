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

    /// <summary>
    /// The kept set found by selection (<see cref="Sampler"/>'s Keep) is the one a full sort gives, as the sampler
    /// computed it until 2026-12-04: order by probability (ties to the lower id), at most top_k, at least min_p × the
    /// best, then the fewest whose mass reaches top_p. The two sum the probabilities in different orders, so where the
    /// mass reaches top_p only within float rounding (top_p 0.999 over 32k tokens of about 1e-6 each) they may differ by
    /// a few tokens at the boundary: always the most likely m, and the tokens in one but not the other hold under 1e-4
    /// of the mass. Flat and peaked distributions, with ties, vocabularies of 6 to 32k.
    /// </summary>
    [Theory]
    [InlineData(0, 0.9f, 0f)]
    [InlineData(0, 0.5f, 0f)]
    [InlineData(0, 0.999f, 0f)]
    [InlineData(40, 1f, 0f)]
    [InlineData(1, 1f, 0f)]
    [InlineData(0, 1f, 0.05f)]
    [InlineData(50, 0.95f, 0.01f)]
    [InlineData(5, 0.3f, 0.5f)]
    public void KeptTokens_SameAsSortingTheWholeVocabulary(int topK, float topP, float minP)
    {
        var random = new Random(topK + (int)(topP * 1000) + (int)(minP * 100));
        foreach (int vocab in new[] { 6, 512, 32000 })
        {
            for (int trial = 0; trial < 12; trial++)
            {
                double spread = trial % 3 == 0 ? 0.5 : trial % 3 == 1 ? 3 : 8;
                float[] logits = [.. Enumerable.Range(0, vocab).Select(_ => (float)(Normal(random) * spread))];
                if (trial % 4 == 3)
                {
                    // Ties: the lower id goes first.
                    logits[vocab / 2] = logits[vocab / 3];
                }

                float[] probabilities = Softmax(logits);
                var sampler = new Sampler(new GenerationRequest([], 1, Temperature: 1f, TopP: topP, Seed: 1) { TopK = topK, MinP = minP });
                int[] order = SortedOrder(probabilities);
                int expected = KeptBySorting(probabilities, order, topK, topP, minP);
                int[] actual = sampler.KeptTokens(probabilities);

                string context = $"vocab {vocab}, trial {trial}: kept {actual.Length}, a full sort keeps {expected}";
                Assert.True(actual.SequenceEqual(order[..actual.Length].Order()), $"{context}; not the most likely {actual.Length}.");
                double between = order[Math.Min(expected, actual.Length)..Math.Max(expected, actual.Length)].Sum(token => (double)probabilities[token]);
                Assert.True(between < 1e-4, $"{context}; the tokens in one but not the other hold {between} of the mass.");
            }
        }
    }

    /// <summary>The vectorised ArgMax is the first largest, as a scalar walk finds it: many ties, signed zeros, NaN and infinities.</summary>
    [Fact]
    public void ArgMax_SameAsTheScalarWalk()
    {
        var random = new Random(11);
        float[] values = [-2f, -1f, -0f, 0f, 1f, 3f, float.PositiveInfinity, float.NegativeInfinity, float.NaN];
        for (int trial = 0; trial < 2000; trial++)
        {
            int length = random.Next(1, trial % 2 == 0 ? 40 : 3000);
            float[] logits = new float[length];
            for (int i = 0; i < length; i++)
            {
                // Mostly few distinct values (ties), sometimes the special ones.
                logits[i] = random.Next(10) == 0 ? values[random.Next(values.Length)] : random.Next(-3, 4) + (trial % 3 == 0 ? (float)random.NextDouble() : 0);
            }

            int expected = 0;
            for (int i = 1; i < length; i++)
            {
                if (logits[i] > logits[expected])
                {
                    expected = i;
                }
            }

            Assert.Equal(expected, Sampler.ArgMax(logits));
        }
    }

    /// <summary>The vectorised softmax (one pass for exp and its sum) equals a double-precision one, on lengths that leave a scalar tail.</summary>
    [Theory]
    [InlineData(6, 1f)]
    [InlineData(517, 0.8f)]
    [InlineData(32000, 0.7f)]
    [InlineData(32003, 1.5f)]
    public void Softmax_SameAsDoublePrecision(int vocab, float temperature)
    {
        var random = new Random(vocab);
        float[] logits = [.. Enumerable.Range(0, vocab).Select(_ => (float)(Normal(random) * 4))];
        float[] probabilities = new float[vocab];

        Sampler.Softmax(logits, temperature, probabilities);

        double max = logits.Max();
        double[] exact = [.. logits.Select(l => Math.Exp((l - max) / temperature))];
        double sum = exact.Sum();
        for (int i = 0; i < vocab; i++)
        {
            double expected = exact[i] / sum;
            Assert.True(Math.Abs(probabilities[i] - expected) <= (1e-5 * expected) + 1e-12, $"token {i}: {probabilities[i]} vs {expected}");
        }
    }

    /// <summary>Draws follow the kept tokens' renormalised probabilities.</summary>
    [Fact]
    public void Sample_TopP_DrawsTheNucleusInProportion()
    {
        float[] logits = [.. new[] { 0.4, 0.25, 0.15, 0.1, 0.05, 0.05 }.Select(p => (float)Math.Log(p))];
        var sampler = new Sampler(new GenerationRequest([], 1, Temperature: 1f, TopP: 0.75f, Seed: 9));
        var counts = new int[logits.Length];
        const int Draws = 40_000;
        for (int i = 0; i < Draws; i++)
        {
            counts[sampler.Sample(logits)]++;
        }

        // 0.4 + 0.25 + 0.15 = 0.8 is the fewest reaching 0.75: 0.5, 0.3125, 0.1875 (a standard error is under 0.003).
        Assert.Equal(0, counts[3] + counts[4] + counts[5]);
        Assert.InRange(counts[0] / (double)Draws, 0.49, 0.51);
        Assert.InRange(counts[1] / (double)Draws, 0.3025, 0.3225);
        Assert.InRange(counts[2] / (double)Draws, 0.1775, 0.1975);
    }

    private static int[] SortedOrder(float[] probabilities)
    {
        int[] order = [.. Enumerable.Range(0, probabilities.Length)];
        Array.Sort(order, (a, b) => probabilities[b] != probabilities[a] ? probabilities[b].CompareTo(probabilities[a]) : a.CompareTo(b));
        return order;
    }

    /// <summary>
    /// How many of <paramref name="order"/>'s first tokens the sort-based sampler kept: its loop, except that top_p 1 cuts
    /// nothing (the old loop could stop a tiny tail early where float rounding took the mass to 1).
    /// </summary>
    private static int KeptBySorting(float[] probabilities, int[] order, int topK, float topP, float minP)
    {
        int keep = topK > 0 ? Math.Min(topK, order.Length) : order.Length;
        float floor = minP * probabilities[order[0]];
        float mass = 0;
        int last = 0;
        for (int i = 0; i < keep; i++)
        {
            float p = probabilities[order[i]];
            if (i > 0 && p < floor)
            {
                break;
            }

            mass += p;
            last = i;
            if (topP < 1 && mass >= topP)
            {
                break;
            }
        }

        return last + 1;
    }

    private static float[] Softmax(float[] logits)
    {
        float max = logits.Max();
        double sum = logits.Sum(l => Math.Exp(l - max));
        return [.. logits.Select(l => (float)(Math.Exp(l - max) / sum))];
    }

    private static double Normal(Random random) => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

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
