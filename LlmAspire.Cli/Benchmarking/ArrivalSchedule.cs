namespace LlmAspire.Cli.Benchmarking;

/// <summary>
/// Request send times as vLLM's benchmark_serving draws them: inter-arrival times from a gamma distribution with
/// shape = burstiness and scale = 1 / (rate · burstiness), so the mean rate is <c>rate</c> for any burstiness;
/// burstiness 1 is a Poisson process, below 1 burstier, above 1 more uniform. An infinite rate sends everything at once.
/// </summary>
public static class ArrivalSchedule
{
    /// <summary>Offsets in seconds from the start at which each of <paramref name="count"/> requests is sent.</summary>
    public static double[] Offsets(int count, double rate, double burstiness, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rate);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(burstiness);
        var offsets = new double[count];
        if (double.IsPositiveInfinity(rate))
        {
            return offsets;
        }

        var random = new Random(seed);
        double scale = 1.0 / (rate * burstiness);
        double time = 0;
        for (int i = 0; i < count; i++)
        {
            offsets[i] = time;
            time += Gamma(random, burstiness) * scale;
        }

        return offsets;
    }

    /// <summary>A Gamma(shape, 1) sample (Marsaglia and Tsang; shape &lt; 1 boosted by U^(1/shape)).</summary>
    public static double Gamma(Random random, double shape)
    {
        ArgumentNullException.ThrowIfNull(random);
        if (shape < 1)
        {
            return Gamma(random, shape + 1) * Math.Pow(1 - random.NextDouble(), 1 / shape);
        }

        double d = shape - (1.0 / 3.0);
        double c = 1 / Math.Sqrt(9 * d);
        while (true)
        {
            double x, v;
            do
            {
                x = Normal(random);
                v = 1 + (c * x);
            }
            while (v <= 0);

            v = v * v * v;
            double u = 1 - random.NextDouble();
            if (Math.Log(u) < (0.5 * x * x) + (d * (1 - v + Math.Log(v))))
            {
                return d * v;
            }
        }
    }

    private static double Normal(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
