using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

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
    private ulong[] _keys = [];

    /// <summary>Tokens whose probabilities a draw sums at once before it walks the block it falls in.</summary>
    private const int DrawBlock = 256;

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

    /// <summary>Index of the largest logit (the first one on ties), vectorised.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int ArgMax(ReadOnlySpan<float> logits)
    {
        // The maximum, then the first value equal to it (-0 equals +0, as in the scalar walk): two vector passes took
        // 4.6 µs on 32k logits where TensorPrimitives.IndexOfMax took 14.6 and the scalar walk 11.6. A NaN makes the
        // maximum NaN, equal to nothing: the scalar walk decides such a row, as before.
        float max = logits.IsEmpty ? float.NaN : TensorPrimitives.Max(logits);
        if (!float.IsNaN(max))
        {
            // Nothing is above the maximum: the first value at least as large is the first equal to it.
            return NextAtLeast(logits, 0, max);
        }

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
        }

        float[] x = _work;
        ReadOnlySpan<float> source = logits;
        if (adjusted)
        {
            logits.CopyTo(x);
            ApplyAdjustments(x);
            if (_temperature == 0)
            {
                return ArgMax(x);
            }

            source = x;
        }

        Softmax(source, _temperature, x);

        float r = (float)_random.NextDouble();
        if (_topP >= 1 && _topK == 0 && _minP == 0)
        {
            return Draw(x, r);
        }

        int kept = Keep(x);
        ReadOnlySpan<ulong> keys = _keys.AsSpan(0, kept);
        float mass = 0;
        foreach (ulong key in keys)
        {
            mass += x[TokenOf(key)];
        }

        float target = r * mass;
        float cumulative = 0;
        foreach (ulong key in keys)
        {
            cumulative += x[TokenOf(key)];
            if (target < cumulative)
            {
                return TokenOf(key);
            }
        }

        return TokenOf(keys[^1]);
    }

    /// <summary>
    /// The softmax of <paramref name="logits"/> / <paramref name="temperature"/> into <paramref name="probabilities"/>, in
    /// three vector passes: the maximum; exp(x / T − max / T) and its sum; the scaling by 1 / sum.
    /// </summary>
    internal static void Softmax(ReadOnlySpan<float> logits, float temperature, Span<float> probabilities)
    {
        float max = TensorPrimitives.Max(logits);
        float inverse = 1f / temperature;
        float sum = ExpScaled(logits, inverse, -max * inverse, probabilities);
        TensorPrimitives.Multiply(probabilities, 1f / sum, probabilities);
    }

    /// <summary>Writes exp(source[i] × <paramref name="scale"/> + <paramref name="shift"/>) to <paramref name="destination"/> and returns their sum, in one pass.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float ExpScaled(ReadOnlySpan<float> source, float scale, float shift, Span<float> destination)
    {
        int i = 0;
        float sum = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> a = Vector256.Create(scale), b = Vector256.Create(shift), total = Vector256<float>.Zero;
            ref float from = ref MemoryMarshal.GetReference(source);
            ref float to = ref MemoryMarshal.GetReference(destination);
            for (; i <= source.Length - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                Vector256<float> e = Vector256.Exp(Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref from, (nuint)i), a, b));
                e.StoreUnsafe(ref to, (nuint)i);
                total += e;
            }

            sum = Vector256.Sum(total);
        }

        for (; i < source.Length; i++)
        {
            float e = MathF.Exp(MathF.FusedMultiplyAdd(source[i], scale, shift));
            destination[i] = e;
            sum += e;
        }

        return sum;
    }

    /// <summary>
    /// Leaves in the first entries of <see cref="_keys"/> the tokens a draw keeps and returns how many: at most top_k, at
    /// least min_p × the most likely one's probability, and of those the fewest most likely whose mass reaches top_p (the
    /// most likely token always). In the order of probability, ties to the lower id, as a sort would take them, but
    /// found without sorting the vocabulary (a comparison-delegate sort took 3.4 ms a token on 32k tokens): top_k by a
    /// heap of k, top_p by a quickselect on the mass, both O(vocabulary). The kept tokens come out in no particular
    /// order; the draw walks them in that order, which changes which token a given random number picks, not the
    /// distribution.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int Keep(float[] probabilities)
    {
        int n = probabilities.Length;
        if (_keys.Length != n)
        {
            _keys = new ulong[n];
        }

        // Below min_p × the best, a token is out. Below (1 − top_p) / n it is not needed: the tokens at or above that
        // hold at least 1 − n × (1 − top_p) / n = top_p of the mass, so top_p's fewest are among them; unless float
        // rounding left their sum short of top_p, and then the whole vocabulary is looked at again.
        float minimum = _minP * TensorPrimitives.Max(probabilities);
        float unneeded = _topP < 1 ? (1 - _topP) / n : 0;
        if (unneeded > minimum)
        {
            int kept = Keep(probabilities, unneeded, fewPass: false, out bool reached);
            if (reached)
            {
                return kept;
            }
        }

        return Keep(probabilities, minimum, fewPass: minimum > 0, out _);
    }

    /// <summary>
    /// <see cref="Keep(float[])"/> among the tokens of probability <paramref name="floor"/> or more; <paramref name="reached"/>:
    /// whether the kept tokens' mass reached top_p, or top_k bounded them. <paramref name="fewPass"/>: the floor is
    /// min_p's, which passes a few tokens (scanned eight at a time), not top_p's, which passes many (taken branch-free).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int Keep(float[] probabilities, float floor, bool fewPass, out bool reached)
    {
        ulong[] keys = _keys;
        int count = 0;
        if (_topK > 0 && _topK < probabilities.Length)
        {
            // The top_k smallest keys in a heap whose root is the largest of them: a token less likely than the root
            // (most of them, once the heap is full) is passed over eight at a time.
            int k = _topK;
            float least = floor;
            for (int i = NextAtLeast(probabilities, 0, least); i < probabilities.Length; i = NextAtLeast(probabilities, i + 1, least))
            {
                ulong key = KeyOf(probabilities[i], i);
                if (count < k)
                {
                    keys[count] = key;
                    SiftUp(keys, count++);
                }
                else if (key < keys[0])
                {
                    keys[0] = key;
                    SiftDown(keys, k);
                }
                else
                {
                    continue;
                }

                if (count == k)
                {
                    // Full: only a token at least as likely as the root's can still get in.
                    least = MathF.Max(floor, ProbabilityOf(keys[0]));
                }
            }
        }
        else
        {
            if (fewPass)
            {
                for (int i = NextAtLeast(probabilities, 0, floor); i < probabilities.Length; i = NextAtLeast(probabilities, i + 1, floor))
                {
                    keys[count++] = KeyOf(probabilities[i], i);
                }
            }
            else
            {
                // Without a branch: which tokens pass is as good as random, and a mispredicted branch a token cost more
                // than the rest of this loop.
                for (int i = 0; i < probabilities.Length; i++)
                {
                    float p = probabilities[i];
                    keys[count] = KeyOf(p, i);
                    count += p >= floor ? 1 : 0;
                }
            }
        }

        reached = true;
        if (count == 0)
        {
            // Not a distribution (NaN logits): keep the lowest id, as a sort by probability would have put first.
            keys[0] = KeyOf(0, 0);
            return 1;
        }

        if (_topP >= 1)
        {
            return count;
        }

        // Bounded by top_k, the kept tokens are the same whether or not top_p's mass is reached among them.
        int kept = PrefixReaching(keys.AsSpan(0, count), probabilities, _topP, out reached);
        reached |= count == _topK;
        return kept;
    }

    /// <summary>
    /// The first index from <paramref name="from"/> on whose value is <paramref name="least"/> or more (never a NaN's),
    /// else the length: eight values a comparison where the CPU has 256-bit vectors.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int NextAtLeast(ReadOnlySpan<float> values, int from, float least)
    {
        int i = from;
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> threshold = Vector256.Create(least);
            ref float first = ref MemoryMarshal.GetReference(values);
            for (; i <= values.Length - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                uint passed = Vector256.GreaterThanOrEqual(Vector256.LoadUnsafe(ref first, (nuint)i), threshold).ExtractMostSignificantBits();
                if (passed != 0)
                {
                    return i + BitOperations.TrailingZeroCount(passed);
                }
            }
        }

        for (; i < values.Length; i++)
        {
            if (values[i] >= least)
            {
                return i;
            }
        }

        return values.Length;
    }

    /// <summary>Restores the max-heap order of keys[..at + 1] after keys[at] was added.</summary>
    private static void SiftUp(ulong[] keys, int at)
    {
        ulong key = keys[at];
        while (at > 0)
        {
            int parent = (at - 1) >> 1;
            if (keys[parent] >= key)
            {
                break;
            }

            keys[at] = keys[parent];
            at = parent;
        }

        keys[at] = key;
    }

    /// <summary>Restores the max-heap order of keys[..count] after its root was replaced.</summary>
    private static void SiftDown(ulong[] keys, int count)
    {
        ulong key = keys[0];
        int at = 0;
        while (true)
        {
            int child = (2 * at) + 1;
            if (child >= count)
            {
                break;
            }

            if (child + 1 < count && keys[child + 1] > keys[child])
            {
                child++;
            }

            if (keys[child] <= key)
            {
                break;
            }

            keys[at] = keys[child];
            at = child;
        }

        keys[at] = key;
    }

    /// <summary>The tokens a draw from <paramref name="probabilities"/> keeps under this sampler's top_k, top_p and min_p, in ascending id order (for tests).</summary>
    internal int[] KeptTokens(float[] probabilities)
    {
        int kept = Keep(probabilities);
        int[] tokens = [.. _keys.AsSpan(0, kept).ToArray().Select(TokenOf)];
        Array.Sort(tokens);
        return tokens;
    }

    /// <summary>A token's sort key: ascending keys are descending probabilities (non-negative floats order as their bits), ties by ascending id.</summary>
    private static ulong KeyOf(float probability, int token) => ((ulong)~BitConverter.SingleToUInt32Bits(probability) << 32) | (uint)token;

    private static int TokenOf(ulong key) => (int)(uint)key;

    private static float ProbabilityOf(ulong key) => BitConverter.UInt32BitsToSingle(~(uint)(key >> 32));

    /// <summary>
    /// Rearranges <paramref name="keys"/> so that its first m entries are the m smallest, for the fewest m whose
    /// probabilities sum to at least <paramref name="topP"/> (all when they never do: <paramref name="reached"/> false), and returns m.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int PrefixReaching(Span<ulong> keys, float[] probabilities, float topP, out bool reached)
    {
        // keys[..lo] are in, with mass `mass`; keys[hi..] are out; the boundary is in keys[lo..hi].
        int lo = 0, hi = keys.Length;
        float mass = 0;
        reached = true;
        while (hi - lo > 16)
        {
            int at = Partition(keys, lo, hi);
            float below = 0;
            for (int i = lo; i < at; i++)
            {
                below += probabilities[TokenOf(keys[i])];
            }

            if (mass + below >= topP)
            {
                hi = at;
                continue;
            }

            mass += below + probabilities[TokenOf(keys[at])];
            if (mass >= topP)
            {
                return at + 1;
            }

            lo = at + 1;
        }

        keys[lo..hi].Sort();
        for (int i = lo; i < hi; i++)
        {
            mass += probabilities[TokenOf(keys[i])];
            if (mass >= topP)
            {
                return i + 1;
            }
        }

        // Short only where nothing was cut off after keys[hi]: past an earlier cut the mass had been reached.
        reached = hi < keys.Length;
        return hi;
    }

    /// <summary>
    /// Partitions keys[lo..hi) (distinct keys) around the median of its first, middle and last entries; returns where
    /// that pivot lands: smaller keys before it, larger after.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int Partition(Span<ulong> keys, int lo, int hi)
    {
        int mid = lo + ((hi - lo) >> 1), last = hi - 1;
        ulong a = keys[lo], b = keys[mid], c = keys[last];
        int median = a < b ? (b < c ? mid : (a < c ? last : lo)) : (a < c ? lo : (b < c ? last : mid));
        (keys[median], keys[last]) = (keys[last], keys[median]);
        ulong pivot = keys[last];
        int store = lo;
        for (int i = lo; i < last; i++)
        {
            if (keys[i] < pivot)
            {
                (keys[i], keys[store]) = (keys[store], keys[i]);
                store++;
            }
        }

        (keys[store], keys[last]) = (keys[last], keys[store]);
        return store;
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

    /// <summary>
    /// The token whose cumulative probability first exceeds <paramref name="r"/>: blocks of <see cref="DrawBlock"/> are
    /// summed vectorised until the one holding it, which is walked token by token.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int Draw(float[] probabilities, float r)
    {
        float cumulative = 0;
        int start = 0;
        for (; start + DrawBlock < probabilities.Length; start += DrawBlock)
        {
            float block = TensorPrimitives.Sum(probabilities.AsSpan(start, DrawBlock));
            if (r < cumulative + block)
            {
                break;
            }

            cumulative += block;
        }

        for (int i = start; i < probabilities.Length; i++)
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
