using System.Runtime.CompilerServices;

namespace LlmAspire.Inference.Engine;

/// <summary>
/// Picks the next token from logits, in vLLM's order: logit bias, repetition/presence/frequency penalties,
/// then greedy at temperature 0, else temperature, top-k, top-p and min-p before drawing. One sampler per
/// sequence, with its own seeded random source, so a seeded request draws the same tokens whatever else runs.
/// </summary>
public sealed class Sampler
{
    private readonly float _temperature;
    private readonly float _topP;
    private readonly int _topK;
    private readonly float _minP;
    private readonly float _presence;
    private readonly float _frequency;
    private readonly float _repetition;
    private readonly int[]? _biasTokens;
    private readonly float[]? _biasValues;
    private readonly Random _random;
    private readonly Dictionary<int, int> _outputCounts = [];
    private readonly HashSet<int> _promptTokens = [];
    private float[] _work = [];
    private int[] _order = [];

    /// <summary>Creates a sampler with temperature and nucleus only.</summary>
    public Sampler(float temperature, float topP, long? seed)
        : this(new GenerationRequest([], 1, temperature, topP, seed))
    {
    }

    /// <summary>Creates a sampler for <paramref name="request"/>'s sampling parameters; <paramref name="seedOffset"/> separates the choices of n &gt; 1.</summary>
    public Sampler(GenerationRequest request, int seedOffset = 0)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!(request.Temperature >= 0) || float.IsInfinity(request.Temperature))
        {
            throw new ArgumentOutOfRangeException(nameof(request), request.Temperature, "Temperature must be a finite number ≥ 0.");
        }

        if (!(request.TopP > 0 && request.TopP <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(request), request.TopP, "top_p must be in (0, 1].");
        }

        if (request.TopK < 0 || !(request.MinP >= 0 && request.MinP <= 1) || !(request.RepetitionPenalty > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(request), "top_k must be ≥ 0, min_p in [0, 1], repetition_penalty > 0.");
        }

        _temperature = request.Temperature;
        _topP = request.TopP;
        _topK = request.TopK;
        _minP = request.MinP;
        _presence = request.PresencePenalty;
        _frequency = request.FrequencyPenalty;
        _repetition = request.RepetitionPenalty;
        if (request.LogitBias is { Count: > 0 } bias)
        {
            // Arrays, not the dictionary: enumerating an IReadOnlyDictionary boxes its enumerator, on every token.
            _biasTokens = [.. bias.Keys];
            _biasValues = [.. _biasTokens.Select(token => bias[token])];
        }

        _random = request.Seed is long s ? new Random(unchecked((int)(s ^ (s >> 32)) + seedOffset)) : new Random();
        if (_repetition != 1f)
        {
            _promptTokens.UnionWith(request.PromptTokens);
        }
    }

    /// <summary>Index of the largest logit (the first one on ties).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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

    /// <summary>Draws the next token and records it for the penalties.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int Sample(ReadOnlySpan<float> logits)
    {
        int token = Choose(logits);
        _outputCounts[token] = _outputCounts.GetValueOrDefault(token) + 1;
        return token;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int Choose(ReadOnlySpan<float> logits)
    {
        bool adjusted = _biasTokens is not null || _presence != 0 || _frequency != 0 || _repetition != 1f;
        if (_temperature == 0 && !adjusted)
        {
            return ArgMax(logits);
        }

        int n = logits.Length;
        if (_work.Length != n)
        {
            _work = new float[n];
            _order = new int[n];
        }

        float[] x = _work;
        logits.CopyTo(x);
        ApplyAdjustments(x);
        if (_temperature == 0)
        {
            return ArgMax(x);
        }

        // Softmax of logits / temperature.
        float max = float.NegativeInfinity;
        foreach (float v in x)
        {
            max = MathF.Max(max, v);
        }

        double sum = 0;
        for (int i = 0; i < n; i++)
        {
            float p = MathF.Exp((x[i] - max) / _temperature);
            x[i] = p;
            sum += p;
        }

        for (int i = 0; i < n; i++)
        {
            x[i] = (float)(x[i] / sum);
        }

        float r = (float)_random.NextDouble();
        if (_topP >= 1 && _topK == 0 && _minP == 0)
        {
            return Draw(x, r);
        }

        // Keep the most likely tokens: at most top_k, within the top_p mass, at least min_p × the best.
        for (int i = 0; i < n; i++)
        {
            _order[i] = i;
        }

        Array.Sort(_order, (a, b) => x[b] != x[a] ? x[b].CompareTo(x[a]) : a.CompareTo(b));
        int keep = _topK > 0 ? Math.Min(_topK, n) : n;
        float floor = _minP * x[_order[0]];
        float mass = 0;
        int last = 0;
        for (int i = 0; i < keep; i++)
        {
            float p = x[_order[i]];
            if (i > 0 && p < floor)
            {
                break;
            }

            mass += p;
            last = i;
            if (mass >= _topP)
            {
                break;
            }
        }

        float target = r * mass;
        float cumulative = 0;
        for (int i = 0; i <= last; i++)
        {
            cumulative += x[_order[i]];
            if (target < cumulative)
            {
                return _order[i];
            }
        }

        return _order[last];
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ApplyAdjustments(float[] x)
    {
        if (_biasTokens is { } tokens)
        {
            float[] biases = _biasValues!;
            for (int i = 0; i < tokens.Length; i++)
            {
                if ((uint)tokens[i] < (uint)x.Length)
                {
                    x[tokens[i]] += biases[i];
                }
            }
        }

        if (_repetition != 1f)
        {
            foreach (int token in _promptTokens.Concat(_outputCounts.Keys).Distinct())
            {
                if ((uint)token < (uint)x.Length)
                {
                    x[token] = x[token] > 0 ? x[token] / _repetition : x[token] * _repetition;
                }
            }
        }

        if (_presence != 0 || _frequency != 0)
        {
            foreach ((int token, int count) in _outputCounts)
            {
                if ((uint)token < (uint)x.Length)
                {
                    x[token] -= _presence + _frequency * count;
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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
