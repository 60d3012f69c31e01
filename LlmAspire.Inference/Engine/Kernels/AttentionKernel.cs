using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace LlmAspire.Inference.Engine.Kernels;

/// <summary>A GroupQueryAttention node's attributes.</summary>
internal readonly record struct AttentionAttributes(int Heads, int KvHeads, float Scale, float Softcap, bool Rotary, bool RotaryInterleaved, int LocalWindow);

/// <summary>
/// GroupQueryAttention on the CPU for float32, the semantics of ONNX Runtime's com.microsoft kernel as our graphs use it:
/// rotary embedding inside (from the cos/sin caches, at each row's own positions), the new keys and values written into
/// the present buffers (in place when past and present are one buffer, the engine's KV cache), causal attention per row
/// over <c>seqlens_k[b] + 1</c> positions, an optional sliding window (a key is seen when its position is above the
/// query's minus <c>local_window_size</c>) and softcap.
/// <para>
/// Why our own: ONNX Runtime's kernel runs two small GEMMs, a softmax and two parallel-for dispatches per (row, query
/// head) — at decode 1×head_size by head_size×length — so with 16 streams its fixed costs, not arithmetic, took 22–30 % of
/// a step. Here one work item is one (row, key/value head, block of query positions): it reads each key and value once
/// for all the query heads that share them, scores, normalizes and sums in registers, and a decode step small enough to
/// finish in microseconds runs on the calling thread without waking ONNX Runtime's pool.
/// </para>
/// </summary>
internal sealed unsafe class AttentionKernel(AttentionAttributes attributes) : ICustomKernel
{
    /// <summary>Query positions per work item in a prefill.</summary>
    private const int PositionsPerItem = 16;

    /// <summary>Bytes of a (row, head)'s keys, and as many of its values, prefetched when its item starts (L1 holds 32–48 KB).</summary>
    private const long PrefetchBytes = 16 * 1024;

    /// <summary>Multiply-adds below which a call runs on the calling thread: a parallel-for costs a wake-up per worker.</summary>
    private const long InlineWork = 1L << 18;

    [ThreadStatic]
    private static float[]? t_scores;

    private readonly AttentionAttributes _a = attributes;

    /// <summary>Runs the node: reads the inputs of <paramref name="context"/> and writes its outputs.</summary>
    /// <remarks>
    /// This and the methods it runs skip tiered compilation (<see cref="MethodImplOptions.AggressiveOptimization"/>):
    /// first-tier code of these loops is several times slower, and a server's first requests, or a short benchmark of a
    /// small model, would run on it while the runtime waits for calls to settle before optimizing.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Compute(IntPtr context)
    {
        Span<long> shape = stackalloc long[4];
        int inputs = OrtApiTable.InputCount(context);
        IntPtr query = OrtApiTable.Input(context, 0);
        Expect(OrtApiTable.Shape(query, shape), 3, "query");
        int batch = (int)shape[0], s = (int)shape[1], width = (int)shape[2];
        int heads = _a.Heads, kvHeads = _a.KvHeads;
        IntPtr key = inputs > 1 ? OrtApiTable.Input(context, 1) : IntPtr.Zero;
        IntPtr value = inputs > 2 ? OrtApiTable.Input(context, 2) : IntPtr.Zero;
        bool packed = key == IntPtr.Zero;
        int d = packed ? width / (heads + (2 * kvHeads)) : width / heads;
        if (d <= 0 || (packed ? d * (heads + (2 * kvHeads)) : d * heads) != width)
        {
            throw new InvalidOperationException($"query width {width} does not split into {heads} heads (+{kvHeads} key/value heads when packed).");
        }

        IntPtr pastKey = inputs > 3 ? OrtApiTable.Input(context, 3) : IntPtr.Zero;
        IntPtr pastValue = inputs > 4 ? OrtApiTable.Input(context, 4) : IntPtr.Zero;
        int pastLength = 0;
        if (pastKey != IntPtr.Zero)
        {
            Expect(OrtApiTable.Shape(pastKey, shape), 4, "past_key");
            if (shape[0] != batch || shape[1] != kvHeads || shape[3] != d)
            {
                throw new InvalidOperationException($"past_key is [{shape[0]}, {shape[1]}, {shape[2]}, {shape[3]}], expected [{batch}, {kvHeads}, *, {d}].");
            }

            pastLength = (int)shape[2];
        }

        int* seqlens = (int*)OrtApiTable.Data(OrtApiTable.Input(context, 5));
        int total = *(int*)OrtApiTable.Data(OrtApiTable.Input(context, 6));
        float* cos = null, sin = null;
        int rotaryHalf = 0, rotaryPositions = 0;
        if (_a.Rotary)
        {
            IntPtr cosValue = inputs > 7 ? OrtApiTable.Input(context, 7) : IntPtr.Zero;
            IntPtr sinValue = inputs > 8 ? OrtApiTable.Input(context, 8) : IntPtr.Zero;
            if (cosValue == IntPtr.Zero || sinValue == IntPtr.Zero)
            {
                throw new InvalidOperationException("do_rotary needs cos_cache and sin_cache.");
            }

            Expect(OrtApiTable.Shape(cosValue, shape), 2, "cos_cache");
            rotaryPositions = (int)shape[0];
            rotaryHalf = (int)shape[1];
            if (2 * rotaryHalf > d)
            {
                throw new InvalidOperationException($"cos_cache rotates {2 * rotaryHalf} dimensions of a {d}-wide head.");
            }

            cos = (float*)OrtApiTable.Data(cosValue);
            sin = (float*)OrtApiTable.Data(sinValue);
        }

        int present = Math.Max(pastLength, total);
        float* output = (float*)OrtApiTable.Data(OrtApiTable.Output(context, 0, [batch, s, heads * d]));
        IntPtr presentKeyValue = OrtApiTable.Output(context, 1, [batch, kvHeads, present, d]);
        IntPtr presentValueValue = OrtApiTable.Output(context, 2, [batch, kvHeads, present, d]);
        if (presentKeyValue == IntPtr.Zero || presentValueValue == IntPtr.Zero)
        {
            throw new InvalidOperationException("present_key and present_value are required.");
        }

        float* presentKey = (float*)OrtApiTable.Data(presentKeyValue);
        float* presentValue = (float*)OrtApiTable.Data(presentValueValue);
        float* q = (float*)OrtApiTable.Data(query);
        float* k = packed ? q + (heads * d) : (float*)OrtApiTable.Data(key);
        float* v = packed ? q + ((heads + kvHeads) * d) : (float*)OrtApiTable.Data(value);
        int tokenStride = packed ? width : kvHeads * d; // floats between one position's keys and the next's

        var job = new Job
        {
            Q = q,
            QueryStride = width,
            Output = output,
            Keys = presentKey,
            Values = presentValue,
            Seqlens = seqlens,
            Cos = cos,
            Sin = sin,
            RotaryHalf = rotaryHalf,
            Interleaved = _a.RotaryInterleaved,
            S = s,
            Heads = heads,
            KvHeads = kvHeads,
            D = d,
            Present = present,
            Scale = _a.Scale == 0f ? 1f / MathF.Sqrt(d) : _a.Scale,
            Softcap = _a.Softcap,
            Window = _a.LocalWindow,
            Blocks = (s + PositionsPerItem - 1) / PositionsPerItem,
        };

        // Past into present when they are separate buffers, then the new positions (keys rotated) after each row's past.
        // With one buffer and one item per (row, head) — every decode step — each item writes its own new positions
        // first: the writes land on cold lines of the cache, one miss after another when a single thread makes them all.
        float* pastKeys = pastKey == IntPtr.Zero ? null : (float*)OrtApiTable.Data(pastKey);
        float* pastValues = pastValue == IntPtr.Zero ? null : (float*)OrtApiTable.Data(pastValue);
        bool shared = pastKeys == presentKey && pastValues == presentValue;
        job.NewKeys = k;
        job.NewValues = v;
        job.TokenStride = tokenStride;
        job.WriteInItems = shared && job.Blocks == 1;
        long work = 0;
        for (int b = 0; b < batch; b++)
        {
            int rowTotal = seqlens[b] + 1, rowPast = rowTotal - s;
            if (rowPast < 0 || rowTotal > present || (!shared && rowPast > pastLength))
            {
                throw new InvalidOperationException($"Row {b}: seqlens_k {seqlens[b]} with {s} new positions does not fit past {pastLength} / present {present}.");
            }

            if (_a.Rotary && rowTotal > rotaryPositions)
            {
                throw new InvalidOperationException($"Row {b}: position {rowTotal - 1} is past the rotary cache ({rotaryPositions}).");
            }

            if (!job.WriteInItems)
            {
                for (int h = 0; h < kvHeads; h++)
                {
                    long rowHead = ((long)b * kvHeads) + h;
                    if (!shared && pastKeys is not null && rowPast > 0)
                    {
                        float* keyRow = presentKey + (rowHead * present * d);
                        float* valueRow = presentValue + (rowHead * present * d);
                        Buffer.MemoryCopy(pastKeys + (rowHead * pastLength * d), keyRow, (long)rowPast * d * 4, (long)rowPast * d * 4);
                        Buffer.MemoryCopy(pastValues + (rowHead * pastLength * d), valueRow, (long)rowPast * d * 4, (long)rowPast * d * 4);
                    }

                    WriteNew(ref job, b, h, rowPast);
                }
            }

            work += (long)s * rowTotal * heads * d * 2;
        }

        int items = batch * kvHeads * job.Blocks;
        if (work < InlineWork || items == 1)
        {
            for (int i = 0; i < items; i++)
            {
                RunItem(ref job, i);
            }
        }
        else
        {
            OrtApiTable.ParallelFor(context, &Work, items, &job);
            if (job.Failed != 0)
            {
                throw new InvalidOperationException("A parallel attention item failed.");
            }
        }
    }

    private static void Expect((int ElementType, int Rank) info, int rank, string name)
    {
        if (info.Rank != rank)
        {
            throw new InvalidOperationException($"{name} has rank {info.Rank}, expected {rank}.");
        }
    }

    [UnmanagedCallersOnly]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Work(void* state, nuint index)
    {
        try
        {
            RunItem(ref Unsafe.AsRef<Job>(state), (int)index);
        }
        catch
        {
            ((Job*)state)->Failed = 1;
        }
    }

    /// <summary>One (row, key/value head, block of query positions): every query head of the group over its keys.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunItem(ref Job job, int item)
    {
        int block = item % job.Blocks;
        int rowHead = item / job.Blocks;
        int b = rowHead / job.KvHeads, h = rowHead % job.KvHeads;
        int d = job.D, group = job.Heads / job.KvHeads;
        int rowTotal = job.Seqlens[b] + 1, rowPast = rowTotal - job.S;
        float* keys = job.Keys + ((long)rowHead * job.Present * d);
        float* values = job.Values + ((long)rowHead * job.Present * d);
        if (job.WriteInItems)
        {
            WriteNew(ref job, b, h, rowPast);
        }

        int firstSeen = job.Window > 0 ? Math.Max(0, rowPast + (block * PositionsPerItem) - job.Window + 1) : 0;
        Prefetch(keys + ((long)firstSeen * d), values + ((long)firstSeen * d), rowTotal - firstSeen, d);
        float[] scoresArray = t_scores is { } cached && cached.Length >= group * rowTotal ? cached : (t_scores = new float[Math.Max(group * rowTotal, 1024)]);
        Span<float> query = stackalloc float[group * d];
        Span<float> sum = stackalloc float[group * d];
        fixed (float* scores = scoresArray)
        fixed (float* q = query)
        fixed (float* acc = sum)
        {
            int last = Math.Min(job.S, (block + 1) * PositionsPerItem);
            for (int t = block * PositionsPerItem; t < last; t++)
            {
                int position = rowPast + t;
                int first = job.Window > 0 ? Math.Max(0, position - job.Window + 1) : 0;
                int count = position - first + 1;
                float* source = job.Q + ((((long)b * job.S) + t) * job.QueryStride) + ((long)h * group * d);
                new ReadOnlySpan<float>(source, group * d).CopyTo(query);
                if (job.Cos is not null)
                {
                    for (int g = 0; g < group; g++)
                    {
                        Rotate(q + (g * d), position, ref job);
                    }
                }

                Scores(q, keys + ((long)first * d), count, group, d, job.Scale, scores, rowTotal);
                for (int g = 0; g < group; g++)
                {
                    Softmax(new Span<float>(scores + ((long)g * rowTotal), count), job.Softcap);
                }

                WeightedSum(scores, values + ((long)first * d), count, group, d, acc, rowTotal);
                float* target = job.Output + ((((long)b * job.S) + t) * job.Heads * d) + ((long)h * group * d);
                sum.CopyTo(new Span<float>(target, group * d));
            }
        }
    }

    /// <summary>Writes row <paramref name="b"/>'s new keys (rotated) and values of key/value head <paramref name="h"/> after its past.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void WriteNew(ref Job job, int b, int h, int rowPast)
    {
        int d = job.D;
        long rowHead = ((long)b * job.KvHeads) + h;
        float* keyRow = job.Keys + (rowHead * job.Present * d);
        float* valueRow = job.Values + (rowHead * job.Present * d);
        for (int t = 0; t < job.S; t++)
        {
            long token = ((long)b * job.S) + t;
            float* target = keyRow + ((long)(rowPast + t) * d);
            new ReadOnlySpan<float>(job.NewKeys + (token * job.TokenStride) + (h * d), d).CopyTo(new Span<float>(target, d));
            if (job.Cos is not null)
            {
                Rotate(target, rowPast + t, ref job);
            }

            new ReadOnlySpan<float>(job.NewValues + (token * job.TokenStride) + (h * d), d)
                .CopyTo(new Span<float>(valueRow + ((long)(rowPast + t) * d), d));
        }
    }

    /// <summary>
    /// Asks for the first <see cref="PrefetchBytes"/> of a (row, head)'s keys and values at once: a decode step reads a
    /// few kilobytes from each of many places in the cache, too short a stream for the hardware prefetcher to ramp up on,
    /// so without this the loads wait on memory one after another.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Prefetch(float* keys, float* values, int positions, int d)
    {
        if (!Sse.IsSupported)
        {
            return;
        }

        long bytes = Math.Min((long)positions * d * sizeof(float), PrefetchBytes);
        byte* k = (byte*)keys, v = (byte*)values;
        for (long offset = 0; offset < bytes; offset += 64)
        {
            Sse.Prefetch0(k + offset);
            Sse.Prefetch1(v + offset);
        }
    }

    /// <summary>
    /// scores[g, j] = scale · q_g · key_j for the <paramref name="count"/> keys, eight keys at a time: eight running
    /// products along d, then one transposing reduction (six horizontal adds and two lane swaps) that leaves the eight
    /// dot products in one vector. Reducing each key's vector on its own cost more than its multiply-adds at small heads
    /// (stories260K's are 8 wide) and a quarter of them at 64.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Scores(float* q, float* keys, int count, int group, int d, float scale, float* scores, int stride)
    {
        int vectors = Vector256.IsHardwareAccelerated ? d / Vector256<float>.Count : 0;
        int tail = vectors * Vector256<float>.Count;
        bool transpose = Avx.IsSupported && vectors > 0;
        var scaled = Vector256.Create(scale);
        float* extra = stackalloc float[8];
        for (int g = 0; g < group; g++)
        {
            float* qg = q + (g * d);
            float* row = scores + ((long)g * stride);
            int j = 0;
            for (; transpose && j + 8 <= count; j += 8)
            {
                float* k0 = keys + ((long)j * d);
                Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
                for (int i = 0; i < tail; i += 8)
                {
                    var x = Vector256.Load(qg + i);
                    float* k = k0 + i;
                    a0 = Vector256.FusedMultiplyAdd(x, Vector256.Load(k), a0);
                    a1 = Vector256.FusedMultiplyAdd(x, Vector256.Load(k + d), a1);
                    a2 = Vector256.FusedMultiplyAdd(x, Vector256.Load(k + (2 * d)), a2);
                    a3 = Vector256.FusedMultiplyAdd(x, Vector256.Load(k + (3 * d)), a3);
                    a4 = Vector256.FusedMultiplyAdd(x, Vector256.Load(k + (4 * d)), a4);
                    a5 = Vector256.FusedMultiplyAdd(x, Vector256.Load(k + (5 * d)), a5);
                    a6 = Vector256.FusedMultiplyAdd(x, Vector256.Load(k + (6 * d)), a6);
                    a7 = Vector256.FusedMultiplyAdd(x, Vector256.Load(k + (7 * d)), a7);
                }

                // hadd(a, b) = [a0+a1, a2+a3, b0+b1, b2+b3 | a4+a5, a6+a7, b4+b5, b6+b7]: twice gives each key's low and
                // high halves' sums, keys 0-3 in h0123 and 4-7 in h4567; adding the halves across lanes gives key order.
                Vector256<float> h0123 = Avx.HorizontalAdd(Avx.HorizontalAdd(a0, a1), Avx.HorizontalAdd(a2, a3));
                Vector256<float> h4567 = Avx.HorizontalAdd(Avx.HorizontalAdd(a4, a5), Avx.HorizontalAdd(a6, a7));
                Vector256<float> sums = Avx.Permute2x128(h0123, h4567, 0x20) + Avx.Permute2x128(h0123, h4567, 0x31);
                if (tail < d)
                {
                    for (int key = 0; key < 8; key++)
                    {
                        float* kk = k0 + ((long)key * d);
                        float sum = 0f;
                        for (int i = tail; i < d; i++)
                        {
                            sum += qg[i] * kk[i];
                        }

                        extra[key] = sum;
                    }

                    sums += Vector256.Load(extra);
                }

                (sums * scaled).Store(row + j);
            }

            for (; j < count; j++)
            {
                float* key = keys + ((long)j * d);
                var a = Vector256<float>.Zero;
                for (int i = 0; i < tail; i += 8)
                {
                    a = Vector256.FusedMultiplyAdd(Vector256.Load(qg + i), Vector256.Load(key + i), a);
                }

                float total = Vector256.Sum(a);
                for (int i = tail; i < d; i++)
                {
                    total += qg[i] * key[i];
                }

                row[j] = total * scale;
            }
        }
    }

    /// <summary>acc[g] = Σ_j p[g, j] · value_j, 32 dimensions at a time held in four registers across the keys.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void WeightedSum(float* probabilities, float* values, int count, int group, int d, float* acc, int stride)
    {
        int vectors = Vector256.IsHardwareAccelerated ? d / Vector256<float>.Count : 0;
        int wide = vectors / 4 * 32, tail = vectors * Vector256<float>.Count;
        int widest = Vector512.IsHardwareAccelerated ? d / 64 * 64 : 0;
        for (int g = 0; g < group; g++)
        {
            float* p = probabilities + ((long)g * stride);
            float* target = acc + (g * d);

            // 64 dimensions at a time where 16-float vectors run at full width: half the passes over the values (each
            // lane still sums its keys in order, so the results are those of the 32-wide loop).
            for (int i = 0; i < widest; i += 64)
            {
                Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
                float* v = values + i;
                for (int j = 0; j < count; j++, v += d)
                {
                    var w = Vector512.Create(p[j]);
                    a0 = Vector512.FusedMultiplyAdd(w, Vector512.Load(v), a0);
                    a1 = Vector512.FusedMultiplyAdd(w, Vector512.Load(v + 16), a1);
                    a2 = Vector512.FusedMultiplyAdd(w, Vector512.Load(v + 32), a2);
                    a3 = Vector512.FusedMultiplyAdd(w, Vector512.Load(v + 48), a3);
                }

                a0.Store(target + i);
                a1.Store(target + i + 16);
                a2.Store(target + i + 32);
                a3.Store(target + i + 48);
            }

            for (int i = widest; i < wide; i += 32)
            {
                Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
                float* v = values + i;
                for (int j = 0; j < count; j++, v += d)
                {
                    var w = Vector256.Create(p[j]);
                    a0 = Vector256.FusedMultiplyAdd(w, Vector256.Load(v), a0);
                    a1 = Vector256.FusedMultiplyAdd(w, Vector256.Load(v + 8), a1);
                    a2 = Vector256.FusedMultiplyAdd(w, Vector256.Load(v + 16), a2);
                    a3 = Vector256.FusedMultiplyAdd(w, Vector256.Load(v + 24), a3);
                }

                a0.Store(target + i);
                a1.Store(target + i + 8);
                a2.Store(target + i + 16);
                a3.Store(target + i + 24);
            }

            for (int i = wide; i < tail; i += 8)
            {
                // Four keys at a time into four sums: one chain would wait on each multiply-add's latency.
                Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
                float* v = values + i;
                int j = 0;
                for (; j + 4 <= count; j += 4, v += 4 * d)
                {
                    a0 = Vector256.FusedMultiplyAdd(Vector256.Create(p[j]), Vector256.Load(v), a0);
                    a1 = Vector256.FusedMultiplyAdd(Vector256.Create(p[j + 1]), Vector256.Load(v + d), a1);
                    a2 = Vector256.FusedMultiplyAdd(Vector256.Create(p[j + 2]), Vector256.Load(v + (2 * d)), a2);
                    a3 = Vector256.FusedMultiplyAdd(Vector256.Create(p[j + 3]), Vector256.Load(v + (3 * d)), a3);
                }

                for (; j < count; j++, v += d)
                {
                    a0 = Vector256.FusedMultiplyAdd(Vector256.Create(p[j]), Vector256.Load(v), a0);
                }

                ((a0 + a1) + (a2 + a3)).Store(target + i);
            }

            for (int i = tail; i < d; i++)
            {
                float sum = 0f;
                for (int j = 0; j < count; j++)
                {
                    sum += p[j] * values[((long)j * d) + i];
                }

                target[i] = sum;
            }
        }
    }

    /// <summary>Softcap (c · tanh(x / c)) when set, then softmax, in place.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Softmax(Span<float> scores, float softcap)
    {
        if (softcap > 0f)
        {
            for (int k = 0; k < scores.Length; k++)
            {
                scores[k] = softcap * MathF.Tanh(scores[k] / softcap);
            }
        }

        int n = scores.Length, i = 0;
        ref float start = ref MemoryMarshal.GetReference(scores);
        float max = float.NegativeInfinity;
        if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            var m = Vector256.Create(float.NegativeInfinity);
            for (; i + 8 <= n; i += 8)
            {
                m = Vector256.Max(m, Vector256.LoadUnsafe(ref start, (nuint)i));
            }

            max = MaxOf(m);
        }

        for (; i < n; i++)
        {
            max = MathF.Max(max, scores[i]);
        }

        float total = 0f;
        i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var m = Vector256.Create(max);
            var sum = Vector256<float>.Zero;
            for (; i + 8 <= n; i += 8)
            {
                var e = Exp(Vector256.LoadUnsafe(ref start, (nuint)i) - m);
                e.StoreUnsafe(ref start, (nuint)i);
                sum += e;
            }

            total = Vector256.Sum(sum);
        }

        for (; i < n; i++)
        {
            scores[i] = MathF.Exp(scores[i] - max);
            total += scores[i];
        }

        float inverse = 1f / total;
        i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var scale = Vector256.Create(inverse);
            for (; i + 8 <= n; i += 8)
            {
                (Vector256.LoadUnsafe(ref start, (nuint)i) * scale).StoreUnsafe(ref start, (nuint)i);
            }
        }

        for (; i < n; i++)
        {
            scores[i] *= inverse;
        }
    }

    private static float MaxOf(Vector256<float> v)
    {
        Vector128<float> half = Vector128.Max(v.GetLower(), v.GetUpper());
        float max = half[0];
        for (int i = 1; i < 4; i++)
        {
            max = MathF.Max(max, half[i]);
        }

        return max;
    }

    /// <summary>
    /// e^x for x ≤ 0 (scores less their maximum), within a few units in the last place: x = n·ln 2 + r with |r| ≤ ln 2 / 2,
    /// e^r from Cephes' expf polynomial, 2^n from the exponent bits. Inputs below −87.3 give e^−87.3 (~1e-38), which
    /// the normalizing sum makes 0 to float precision. .NET's Vector256.Exp took 26 ns per vector here; this takes a few.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Exp(Vector256<float> x)
    {
        x = Vector256.Max(x, Vector256.Create(-87.3f));
        Vector256<float> n = Vector256.Round(x * Vector256.Create(1.44269504088896341f));
        Vector256<float> r = Vector256.FusedMultiplyAdd(n, Vector256.Create(-0.693359375f), x);
        r = Vector256.FusedMultiplyAdd(n, Vector256.Create(2.12194440e-4f), r);
        Vector256<float> p = Vector256.Create(1.9875691500e-4f);
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1.3981999507e-3f));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(8.3334519073e-3f));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(4.1665795894e-2f));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1.6666665459e-1f));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(5.0000001201e-1f));
        p = Vector256.FusedMultiplyAdd(p, r * r, r + Vector256<float>.One);
        Vector256<int> exponent = (Vector256.ConvertToInt32(n) + Vector256.Create(127)) << 23;
        return p * exponent.AsSingle();
    }

    /// <summary>Turns the first 2·RotaryHalf dimensions of one head at <paramref name="position"/> (pairs interleaved or split in halves).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Rotate(float* x, int position, ref Job job)
    {
        int half = job.RotaryHalf;
        float* c = job.Cos + ((long)position * half);
        float* s = job.Sin + ((long)position * half);
        if (job.Interleaved)
        {
            int i = 0;
            if (Avx512F.IsSupported)
            {
                // Eight pairs at a time: (x0, x1) → (x0·c − x1·s, x1·c + x0·s), the same products and sums as below.
                Vector512<int> duplicate = Vector512.Create(0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7);
                Vector512<float> signs = Vector512.Create(-1f, 1f, -1f, 1f, -1f, 1f, -1f, 1f, -1f, 1f, -1f, 1f, -1f, 1f, -1f, 1f);
                for (; i + 8 <= half; i += 8)
                {
                    Vector512<float> pair = Vector512.Load(x + (2 * i));
                    Vector512<float> cc = Avx512F.PermuteVar16x32(Vector512.Create(Vector256.Load(c + i), Vector256<float>.Zero), duplicate);
                    Vector512<float> ss = Avx512F.PermuteVar16x32(Vector512.Create(Vector256.Load(s + i), Vector256<float>.Zero), duplicate) * signs;
                    Vector512<float> swapped = Avx512F.Permute4x32(pair, 0b10_11_00_01);
                    ((pair * cc) + (swapped * ss)).Store(x + (2 * i));
                }
            }

            for (; i < half; i++)
            {
                float x0 = x[2 * i], x1 = x[(2 * i) + 1];
                x[2 * i] = (x0 * c[i]) - (x1 * s[i]);
                x[(2 * i) + 1] = (x0 * s[i]) + (x1 * c[i]);
            }
        }
        else
        {
            for (int i = 0; i < half; i++)
            {
                float x0 = x[i], x1 = x[i + half];
                x[i] = (x0 * c[i]) - (x1 * s[i]);
                x[i + half] = (x0 * s[i]) + (x1 * c[i]);
            }
        }
    }

    /// <summary>Everything a work item reads: pointers into the node's tensors, valid while the node runs.</summary>
    private struct Job
    {
        public float* Q;
        public int QueryStride;
        public float* Output;
        public float* Keys;
        public float* Values;
        public int* Seqlens;
        public float* Cos;
        public float* Sin;
        public int RotaryHalf;
        public bool Interleaved;
        public int S;
        public int Heads;
        public int KvHeads;
        public int D;
        public int Present;
        public float Scale;
        public float Softcap;
        public int Window;
        public int Blocks;
        public float* NewKeys;
        public float* NewValues;
        public int TokenStride;
        public bool WriteInItems;
        public int Failed;
    }
}
