namespace LlmAspire.Inference.Engine;

/// <summary>Picks the next token from logits: greedy at temperature 0, else temperature + nucleus (top-p) sampling.</summary>
public sealed class Sampler
{
    private readonly float _temperature;
    private readonly float _topP;
    private readonly Random _random;
    private float[] _probabilities = [];
    private int[] _order = [];

    /// <summary>Creates a sampler; the same seed gives the same draws.</summary>
    public Sampler(float temperature, float topP, long? seed)
    {
        if (!(temperature >= 0) || float.IsInfinity(temperature))
        {
            throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "Temperature must be a finite number ≥ 0.");
        }

        if (!(topP > 0 && topP <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(topP), topP, "top_p must be in (0, 1].");
        }

        _temperature = temperature;
        _topP = topP;
        _random = seed is long s ? new Random(unchecked((int)(s ^ (s >> 32)))) : new Random();
    }

    /// <summary>Index of the largest logit (the first one on ties).</summary>
    public static int ArgMax(ReadOnlySpan<float> logits)
    {
        int best = 0;
        for (int i = 1; i < logits.Length; i++)
        {
            if (logits[i] > logits[best])
            {
                best = i;
            }
        }

        return best;
    }

    /// <summary>Draws the next token.</summary>
    public int Sample(ReadOnlySpan<float> logits)
    {
        if (_temperature == 0)
        {
            return ArgMax(logits);
        }

        int n = logits.Length;
        if (_probabilities.Length != n)
        {
            _probabilities = new float[n];
            _order = new int[n];
        }

        // Softmax of logits / temperature.
        float max = float.NegativeInfinity;
        foreach (float v in logits)
        {
            max = MathF.Max(max, v);
        }

        double sum = 0;
        for (int i = 0; i < n; i++)
        {
            float p = MathF.Exp((logits[i] - max) / _temperature);
            _probabilities[i] = p;
            sum += p;
        }

        for (int i = 0; i < n; i++)
        {
            _probabilities[i] = (float)(_probabilities[i] / sum);
        }

        float r = (float)_random.NextDouble();
        if (_topP >= 1)
        {
            return Draw(_probabilities, r);
        }

        // Nucleus: the smallest set of most likely tokens whose mass reaches top_p.
        for (int i = 0; i < n; i++)
        {
            _order[i] = i;
        }

        float[] probabilities = _probabilities;
        Array.Sort(_order, (a, b) => probabilities[b] != probabilities[a] ? probabilities[b].CompareTo(probabilities[a]) : a.CompareTo(b));
        float mass = 0;
        int last = n - 1;
        for (int i = 0; i < n; i++)
        {
            mass += probabilities[_order[i]];
            if (mass >= _topP)
            {
                last = i;
                break;
            }
        }

        float target = r * mass;
        float cumulative = 0;
        for (int i = 0; i <= last; i++)
        {
            cumulative += probabilities[_order[i]];
            if (target < cumulative)
            {
                return _order[i];
            }
        }

        return _order[last];
    }

    private static int Draw(float[] probabilities, float r)
    {
        float cumulative = 0;
        for (int i = 0; i < probabilities.Length; i++)
        {
            cumulative += probabilities[i];
            if (r < cumulative)
            {
                return i;
            }
        }

        return probabilities.Length - 1;
    }
}
