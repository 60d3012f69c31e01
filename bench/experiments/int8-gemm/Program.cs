using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Google.Protobuf;
using LlmAspire.Inference.Models.Quantization;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Onnx;

// Experiment (issue 13), not part of the product: can an int8 kernel written in C# beat ONNX Runtime's MatMulNBits
// (MLAS, 8-bit weights in blocks of 32, asymmetric, int8 activations: accuracy_level 4) on this CPU? .NET 10 exposes
// VNNI only as 256-bit AVX-VNNI here (its 512-bit form needs AVX10.2); this packs 8 columns' 4-byte groups per vector
// (vpdpbusd: unsigned weights times signed activations), quantizes activations per block of 32 as MLAS does, and runs a
// 4-row x 24-column tile (1 x 32 for one row, with prefetch). It checks its output against ONNX Runtime's one-node
// session, then times both on one thread, alternated, median of 7. COPIES=n rotates n different weights (out of cache).
// Usage: dotnet run -c Release -- K N M[,M...]     e.g. 768 6144 1,16   (M = 1 or a multiple of 4)
unsafe
{
    Console.WriteLine($"AvxVnni {AvxVnni.IsSupported} Avx512F {Avx512F.IsSupported}");
    int K = int.Parse(args[0]), N = int.Parse(args[1]);
    int[] Ms = args[2].Split(',').Select(int.Parse).ToArray();
    var rng = new Random(1);
    var w = new float[K * N];
    for (int i = 0; i < w.Length; i++) w[i] = (float)(rng.NextDouble() * 2 - 1) * 0.05f;
    var q = BlockQuantizer.Quantize(w, K, N, 8, 32, false);

    // ORT single node
    var model = new ModelProto { IrVersion = 8 };
    model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 17 });
    model.OpsetImport.Add(new OperatorSetIdProto { Domain = "com.microsoft", Version = 1 });
    var g = new GraphProto { Name = "g" };
    g.Initializer.Add(T("B", TensorProto.Types.DataType.Uint8, q.Packed, N, q.BlocksPerColumn, q.BlobSize));
    g.Initializer.Add(T("S", TensorProto.Types.DataType.Float, MemoryMarshal.AsBytes(q.Scales.AsSpan()).ToArray(), q.Scales.Length));
    g.Initializer.Add(T("Z", TensorProto.Types.DataType.Uint8, q.ZeroPoints!, q.ZeroPoints!.Length));
    var node = new NodeProto { OpType = "MatMulNBits", Domain = "com.microsoft", Name = "mm" };
    node.Input.Add("A"); node.Input.Add("B"); node.Input.Add("S"); node.Input.Add("Z"); node.Output.Add("Y");
    foreach (var (n, v) in new[] { ("K", (long)K), ("N", N), ("bits", 8), ("block_size", 32), ("accuracy_level", 4) })
        node.Attribute.Add(new AttributeProto { Name = n, Type = AttributeProto.Types.AttributeType.Int, I = v });
    g.Node.Add(node);
    g.Input.Add(VI("A", -1, K)); g.Output.Add(VI("Y", -1, N));
    model.Graph = g;
    var so = new SessionOptions { IntraOpNumThreads = 1 };
    so.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
    using var session = new InferenceSession(model.ToByteArray(), so);

    var packed = Int8Gemm.Pack(q);
    int copies = int.Parse(Environment.GetEnvironmentVariable("COPIES") ?? "0");
    if (copies > 0)
    {
        var sessions = new List<InferenceSession>(); var packs = new List<Int8Gemm.Packed>();
        for (int c = 0; c < copies; c++)
        {
            for (int i = 0; i < w.Length; i++) w[i] = (float)(rng.NextDouble() * 2 - 1) * 0.05f;
            var qc = BlockQuantizer.Quantize(w, K, N, 8, 32, false);
            g.Initializer[0] = T("B", TensorProto.Types.DataType.Uint8, qc.Packed, N, qc.BlocksPerColumn, qc.BlobSize);
            g.Initializer[1] = T("S", TensorProto.Types.DataType.Float, MemoryMarshal.AsBytes(qc.Scales.AsSpan()).ToArray(), qc.Scales.Length);
            g.Initializer[2] = T("Z", TensorProto.Types.DataType.Uint8, qc.ZeroPoints!, qc.ZeroPoints!.Length);
            sessions.Add(new InferenceSession(model.ToByteArray(), so)); packs.Add(Int8Gemm.Pack(qc));
        }
        int M1 = Ms[0];
        var a1 = new float[M1 * K]; for (int i = 0; i < a1.Length; i++) a1[i] = (float)(rng.NextDouble() * 2 - 1);
        var in1 = OrtValue.CreateTensorValueFromMemory(a1, new long[] { M1, K });
        var out1 = OrtValue.CreateTensorValueFromMemory(new float[M1 * N], new long[] { M1, N });
        var y1 = new float[M1 * N];
        using var ro1 = new RunOptions();
        var to = new List<double>(); var tu = new List<double>();
        for (int r = 0; r < 7; r++)
        {
            var sw = Stopwatch.StartNew();
            for (int it = 0; it < 20; it++) foreach (var se in sessions) se.Run(ro1, new[] { "A" }, new[] { in1 }, new[] { "Y" }, new[] { out1 });
            to.Add(sw.Elapsed.TotalSeconds / 20);
            sw.Restart();
            for (int it = 0; it < 20; it++) foreach (var pk in packs) Int8Gemm.Run(pk, a1, M1, y1);
            tu.Add(sw.Elapsed.TotalSeconds / 20);
        }
        double bytes = (double)copies * K * N * (1 + 5.0 / 32);
        double mo1 = to.Order().ElementAt(3), mu1 = tu.Order().ElementAt(3);
        Console.WriteLine($"M={M1} x{copies} copies ({bytes / 1e6:F0} MB): ORT {mo1 * 1e3:F2} ms ({bytes / mo1 / 1e9:F1} GB/s)  ours {mu1 * 1e3:F2} ms ({bytes / mu1 / 1e9:F1} GB/s) ratio {mo1 / mu1:F2}");
        return;
    }
    foreach (int M in Ms)
    {
        var a = new float[M * K];
        for (int i = 0; i < a.Length; i++) a[i] = (float)(rng.NextDouble() * 2 - 1);
        var at = new DenseTensor<float>(a, new[] { M, K });
        float[] ort = session.Run(new[] { NamedOnnxValue.CreateFromTensor("A", at) }).First().AsTensor<float>().ToArray();
        var ours = new float[M * N];
        Int8Gemm.Run(packed, a, M, ours);
        double maxd = 0, maxv = 0;
        for (int i = 0; i < ours.Length; i++) { maxd = Math.Max(maxd, Math.Abs(ours[i] - ort[i])); maxv = Math.Max(maxv, Math.Abs(ort[i])); }
        Console.WriteLine($"M={M} max|diff| {maxd:E2} of max {maxv:F3}");

        // time alternated
        var input = OrtValue.CreateTensorValueFromMemory(a, new long[] { M, K });
        var outv = OrtValue.CreateTensorValueFromMemory(new float[M * N], new long[] { M, N });
        using var ro = new RunOptions();
        int iters = Math.Max(20, 20000 / M / Math.Max(1, K * N / 1000000));
        var tOrt = new List<double>(); var tOurs = new List<double>();
        for (int r = 0; r < 7; r++)
        {
            var sw = Stopwatch.StartNew();
            for (int i = 0; i < iters; i++) session.Run(ro, new[] { "A" }, new[] { input }, new[] { "Y" }, new[] { outv });
            tOrt.Add(sw.Elapsed.TotalSeconds / iters);
            sw.Restart();
            for (int i = 0; i < iters; i++) Int8Gemm.Run(packed, a, M, ours);
            tOurs.Add(sw.Elapsed.TotalSeconds / iters);
        }
        double macs = (double)M * K * N;
        double mo = tOrt.Order().ElementAt(3), mu = tOurs.Order().ElementAt(3);
        Console.WriteLine($"M={M} K={K} N={N}: ORT {mo * 1e6:F1} us ({macs / mo / 1e9:F1} GMAC/s)  ours {mu * 1e6:F1} us ({macs / mu / 1e9:F1} GMAC/s)  ratio {mo / mu:F2}");
    }
}

static TensorProto T(string name, TensorProto.Types.DataType type, byte[] raw, params long[] dims)
{
    var t = new TensorProto { Name = name, DataType = (int)type, RawData = ByteString.CopyFrom(raw) };
    t.Dims.AddRange(dims);
    return t;
}

static ValueInfoProto VI(string name, long m, long k)
{
    var shape = new TensorShapeProto();
    shape.Dim.Add(m < 0 ? new TensorShapeProto.Types.Dimension { DimParam = "M" } : new TensorShapeProto.Types.Dimension { DimValue = m });
    shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = k });
    return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = 1, Shape = shape } } };
}

/// <summary>Prototype: 8-bit block-32 asymmetric weights, int8 activations per block of 32, AVX-VNNI 256-bit.</summary>
static unsafe class Int8Gemm
{
    public sealed class Packed
    {
        public int K, N, Blocks, Tiles; // tiles of 8 columns
        public byte* W;      // [tile][k/4][8][4]
        public float* Scale; // [tile][block][8]
        public float* ScaleZp; // [tile][block][8] = scale * zp
    }

    public static Packed Pack(QuantizedMatrix q)
    {
        int K = q.K, N = q.N, nb = q.BlocksPerColumn, tiles = (N + 7) / 8;
        var p = new Packed { K = K, N = N, Blocks = nb, Tiles = tiles };
        p.W = (byte*)NativeMemory.AlignedAlloc((nuint)(tiles * nb * 32 * 8), 64);
        p.Scale = (float*)NativeMemory.AlignedAlloc((nuint)(tiles * nb * 8 * 4), 64);
        p.ScaleZp = (float*)NativeMemory.AlignedAlloc((nuint)(tiles * nb * 8 * 4), 64);
        for (int t = 0; t < tiles; t++)
            for (int c = 0; c < 8; c++)
            {
                int n = t * 8 + c;
                for (int b = 0; b < nb; b++)
                {
                    float s = n < N ? q.Scales[n * nb + b] : 0;
                    byte zp = n < N ? q.ZeroPoints![n * nb + b] : (byte)0;
                    p.Scale[(t * nb + b) * 8 + c] = s;
                    p.ScaleZp[(t * nb + b) * 8 + c] = s * zp;
                    for (int kk = 0; kk < 32; kk++)
                    {
                        int k = b * 32 + kk;
                        byte v = n < N ? q.Packed[(n * nb + b) * 32 + kk] : (byte)0;
                        // [tile][k/4][c][k%4]
                        p.W[((long)t * (nb * 8) + k / 4) * 32 + c * 4 + (k % 4)] = v;
                    }
                }
            }
        return p;
    }

    [ThreadStatic] static sbyte[]? s_qa;
    [ThreadStatic] static float[]? s_sa, s_ssum;

    public static void Run(Packed p, float[] a, int M, float[] y)
    {
        int K = p.K, nb = p.Blocks;
        if (s_qa is null || s_qa.Length < M * K) { s_qa = new sbyte[M * K]; s_sa = new float[M * nb]; s_ssum = new float[M * nb]; }
        fixed (float* ap = a) fixed (sbyte* qa = s_qa) fixed (float* sa = s_sa) fixed (float* ssum = s_ssum) fixed (float* yp = y)
        {
            Quantize(ap, M, K, nb, qa, sa, ssum);
            if (M == 1)
            {
                for (int t = 0; t + 4 <= p.Tiles; t += 4)
                    Kernel1x4(p, qa, sa, ssum, yp, t);
                return;
            }
            for (int t = 0; t + 3 <= p.Tiles; t += 3)
                for (int m = 0; m + 4 <= M; m += 4)
                    Kernel4x3(p, qa + m * K, sa + m * nb, ssum + m * nb, yp + m * p.N, t);
        }
    }

    static void Quantize(float* a, int M, int K, int nb, sbyte* qa, float* sa, float* ssum)
    {
        for (int m = 0; m < M; m++)
            for (int b = 0; b < nb; b++)
            {
                float* src = a + m * K + b * 32;
                var v0 = Vector256.Load(src); var v1 = Vector256.Load(src + 8); var v2 = Vector256.Load(src + 16); var v3 = Vector256.Load(src + 24);
                var mx = Vector256.Max(Vector256.Max(Vector256.Abs(v0), Vector256.Abs(v1)), Vector256.Max(Vector256.Abs(v2), Vector256.Abs(v3)));
                float amax = 0; for (int i = 0; i < 8; i++) amax = MathF.Max(amax, mx[i]);
                float scale = amax / 127f;
                float inv = amax != 0 ? 127f / amax : 0;
                var vi = Vector256.Create(inv);
                var i0 = Avx.ConvertToVector256Int32(v0 * vi); var i1 = Avx.ConvertToVector256Int32(v1 * vi);
                var i2 = Avx.ConvertToVector256Int32(v2 * vi); var i3 = Avx.ConvertToVector256Int32(v3 * vi);
                int sum = Vector256.Sum(i0 + i1 + i2 + i3);
                var p01 = Avx2.PackSignedSaturate(i0, i1); var p23 = Avx2.PackSignedSaturate(i2, i3);
                var p = Avx2.PackSignedSaturate(p01, p23); // lanes interleaved: fix order with permute
                p = Avx2.PermuteVar8x32(p.AsInt32(), Vector256.Create(0, 4, 1, 5, 2, 6, 3, 7)).AsSByte();
                p.Store(qa + m * K + b * 32);
                sa[m * nb + b] = scale;
                ssum[m * nb + b] = scale * sum;
            }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<sbyte> Bcast(sbyte* p) => Vector256.Create(*(int*)p).AsSByte();

    static void Kernel4x3(Packed p, sbyte* qa, float* sa, float* ssum, float* y, int t)
    {
        int K = p.K, nb = p.Blocks;
        byte* w0 = p.W + (long)t * nb * 256; byte* w1 = w0 + nb * 256; byte* w2 = w1 + nb * 256;
        float* s0 = p.Scale + t * nb * 8; float* z0 = p.ScaleZp + t * nb * 8;
        int sstride = nb * 8;
        Vector256<float> f00 = default, f01 = default, f02 = default, f10 = default, f11 = default, f12 = default,
            f20 = default, f21 = default, f22 = default, f30 = default, f31 = default, f32 = default;
        sbyte* q0 = qa; sbyte* q1 = q0 + K; sbyte* q2 = q1 + K; sbyte* q3 = q2 + K;
        for (int b = 0; b < nb; b++)
        {
            Vector256<int> a00 = default, a01 = default, a02 = default, a10 = default, a11 = default, a12 = default,
                a20 = default, a21 = default, a22 = default, a30 = default, a31 = default, a32 = default;
            for (int kq = 0; kq < 32; kq += 4)
            {
                var b0 = Vector256.Load(w0); var b1 = Vector256.Load(w1); var b2 = Vector256.Load(w2);
                w0 += 32; w1 += 32; w2 += 32;
                var x = Bcast(q0 + kq); a00 = AvxVnni.MultiplyWideningAndAdd(a00, b0, x); a01 = AvxVnni.MultiplyWideningAndAdd(a01, b1, x); a02 = AvxVnni.MultiplyWideningAndAdd(a02, b2, x);
                x = Bcast(q1 + kq); a10 = AvxVnni.MultiplyWideningAndAdd(a10, b0, x); a11 = AvxVnni.MultiplyWideningAndAdd(a11, b1, x); a12 = AvxVnni.MultiplyWideningAndAdd(a12, b2, x);
                x = Bcast(q2 + kq); a20 = AvxVnni.MultiplyWideningAndAdd(a20, b0, x); a21 = AvxVnni.MultiplyWideningAndAdd(a21, b1, x); a22 = AvxVnni.MultiplyWideningAndAdd(a22, b2, x);
                x = Bcast(q3 + kq); a30 = AvxVnni.MultiplyWideningAndAdd(a30, b0, x); a31 = AvxVnni.MultiplyWideningAndAdd(a31, b1, x); a32 = AvxVnni.MultiplyWideningAndAdd(a32, b2, x);
            }
            q0 += 32; q1 += 32; q2 += 32; q3 += 32;
            var sc0 = Vector256.Load(s0); var sc1 = Vector256.Load(s0 + sstride); var sc2 = Vector256.Load(s0 + 2 * sstride);
            var zc0 = Vector256.Load(z0); var zc1 = Vector256.Load(z0 + sstride); var zc2 = Vector256.Load(z0 + 2 * sstride);
            s0 += 8; z0 += 8;
            Step3(ref f00, ref f01, ref f02, a00, a01, a02, sc0, sc1, sc2, zc0, zc1, zc2, sa[b], ssum[b]);
            Step3(ref f10, ref f11, ref f12, a10, a11, a12, sc0, sc1, sc2, zc0, zc1, zc2, sa[nb + b], ssum[nb + b]);
            Step3(ref f20, ref f21, ref f22, a20, a21, a22, sc0, sc1, sc2, zc0, zc1, zc2, sa[2 * nb + b], ssum[2 * nb + b]);
            Step3(ref f30, ref f31, ref f32, a30, a31, a32, sc0, sc1, sc2, zc0, zc1, zc2, sa[3 * nb + b], ssum[3 * nb + b]);
        }
        int n0 = t * 8, N = p.N;
        f00.Store(y + n0); f01.Store(y + n0 + 8); f02.Store(y + n0 + 16);
        f10.Store(y + N + n0); f11.Store(y + N + n0 + 8); f12.Store(y + N + n0 + 16);
        f20.Store(y + 2 * N + n0); f21.Store(y + 2 * N + n0 + 8); f22.Store(y + 2 * N + n0 + 16);
        f30.Store(y + 3 * N + n0); f31.Store(y + 3 * N + n0 + 8); f32.Store(y + 3 * N + n0 + 16);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Step3(ref Vector256<float> f0, ref Vector256<float> f1, ref Vector256<float> f2, Vector256<int> a0, Vector256<int> a1, Vector256<int> a2,
        Vector256<float> sc0, Vector256<float> sc1, Vector256<float> sc2, Vector256<float> zc0, Vector256<float> zc1, Vector256<float> zc2, float sa, float ssum)
    {
        var vsa = Vector256.Create(sa); var vss = Vector256.Create(ssum);
        f0 = Fma.MultiplyAddNegated(zc0, vss, Fma.MultiplyAdd(Avx.ConvertToVector256Single(a0), sc0 * vsa, f0));
        f1 = Fma.MultiplyAddNegated(zc1, vss, Fma.MultiplyAdd(Avx.ConvertToVector256Single(a1), sc1 * vsa, f1));
        f2 = Fma.MultiplyAddNegated(zc2, vss, Fma.MultiplyAdd(Avx.ConvertToVector256Single(a2), sc2 * vsa, f2));
    }


    static void Kernel1x4(Packed p, sbyte* qa, float* sa, float* ssum, float* y, int t)
    {
        int nb = p.Blocks;
        long stride = nb * 256;
        byte* w0 = p.W + (long)t * stride;
        float* s0 = p.Scale + t * nb * 8; float* z0 = p.ScaleZp + t * nb * 8;
        int ss = nb * 8;
        Vector256<float> f0 = default, f1 = default, f2 = default, f3 = default;
        for (int b = 0; b < nb; b++)
        {
            Vector256<int> a0 = default, a1 = default, a2 = default, a3 = default;
            Vector256<int> c0 = default, c1 = default, c2 = default, c3 = default;
            Sse.Prefetch0(w0 + 1024); Sse.Prefetch0(w0 + 1024 + 64); Sse.Prefetch0(w0 + 1024 + 128); Sse.Prefetch0(w0 + 1024 + 192);
            Sse.Prefetch0(w0 + stride + 1024); Sse.Prefetch0(w0 + stride + 1024 + 64); Sse.Prefetch0(w0 + stride + 1024 + 128); Sse.Prefetch0(w0 + stride + 1024 + 192);
            Sse.Prefetch0(w0 + 2 * stride + 1024); Sse.Prefetch0(w0 + 2 * stride + 1024 + 64); Sse.Prefetch0(w0 + 2 * stride + 1024 + 128); Sse.Prefetch0(w0 + 2 * stride + 1024 + 192);
            Sse.Prefetch0(w0 + 3 * stride + 1024); Sse.Prefetch0(w0 + 3 * stride + 1024 + 64); Sse.Prefetch0(w0 + 3 * stride + 1024 + 128); Sse.Prefetch0(w0 + 3 * stride + 1024 + 192);
            for (int kq = 0; kq < 32; kq += 8)
            {
                var x = Bcast(qa + kq);
                a0 = AvxVnni.MultiplyWideningAndAdd(a0, Vector256.Load(w0), x);
                a1 = AvxVnni.MultiplyWideningAndAdd(a1, Vector256.Load(w0 + stride), x);
                a2 = AvxVnni.MultiplyWideningAndAdd(a2, Vector256.Load(w0 + 2 * stride), x);
                a3 = AvxVnni.MultiplyWideningAndAdd(a3, Vector256.Load(w0 + 3 * stride), x);
                x = Bcast(qa + kq + 4);
                c0 = AvxVnni.MultiplyWideningAndAdd(c0, Vector256.Load(w0 + 32), x);
                c1 = AvxVnni.MultiplyWideningAndAdd(c1, Vector256.Load(w0 + stride + 32), x);
                c2 = AvxVnni.MultiplyWideningAndAdd(c2, Vector256.Load(w0 + 2 * stride + 32), x);
                c3 = AvxVnni.MultiplyWideningAndAdd(c3, Vector256.Load(w0 + 3 * stride + 32), x);
                w0 += 64;
            }
            qa += 32;
            var vsa = Vector256.Create(sa[b]); var vss = Vector256.Create(ssum[b]);
            f0 = Fma.MultiplyAddNegated(Vector256.Load(z0), vss, Fma.MultiplyAdd(Avx.ConvertToVector256Single(a0 + c0), Vector256.Load(s0) * vsa, f0));
            f1 = Fma.MultiplyAddNegated(Vector256.Load(z0 + ss), vss, Fma.MultiplyAdd(Avx.ConvertToVector256Single(a1 + c1), Vector256.Load(s0 + ss) * vsa, f1));
            f2 = Fma.MultiplyAddNegated(Vector256.Load(z0 + 2 * ss), vss, Fma.MultiplyAdd(Avx.ConvertToVector256Single(a2 + c2), Vector256.Load(s0 + 2 * ss) * vsa, f2));
            f3 = Fma.MultiplyAddNegated(Vector256.Load(z0 + 3 * ss), vss, Fma.MultiplyAdd(Avx.ConvertToVector256Single(a3 + c3), Vector256.Load(s0 + 3 * ss) * vsa, f3));
            s0 += 8; z0 += 8;
        }
        f0.Store(y + t * 8); f1.Store(y + t * 8 + 8); f2.Store(y + t * 8 + 16); f3.Store(y + t * 8 + 24);
    }

}
