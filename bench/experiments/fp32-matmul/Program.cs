// An experiment kept for the figures in docs/BENCHMARKS.md ("A float32 MatMul of our own", "Seventh pass"): 48
// MatMul nodes of the 100M model's shapes (12 x [768 x 1280, 768 x 768, 768 x 6144, 3072 x 768], 415 MB of float32
// weights) in one graph, run by ONNX Runtime's MLAS, by the third pass's packed kernel here (a copy of each weight, no
// prefetch), by a kernel reading each weight in place with prefetch, and by the engine's PackedMatMul (the graph
// rewritten as DecoderSession rewrites it), the last also with its parallel parts on a KernelThreadPool (what
// ModelServer:Spinning=Brief runs), in turns, at each row count; median of 5 rounds.
// dotnet run -c Release -- THREADS M1,M2,... SPIN(0|1)
using System.Diagnostics;
using System.Runtime.InteropServices;
using Google.Protobuf;
using LlmAspire.Bench.Fp32MatMul;
using LlmAspire.Inference.Engine.Kernels;
using Microsoft.ML.OnnxRuntime;
using Onnx;

int threads = int.Parse(args[0]);
int[] Ms = args[1].Split(',').Select(int.Parse).ToArray();
string spin = args.Length > 2 ? args[2] : "1";
int rounds = 5;
var rng = new Random(1);
var model = new ModelProto { IrVersion = 8 };
model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 17 });
var g = new GraphProto { Name = "g" };
(int K, int N)[] shapes = [(768, 1280), (768, 768), (768, 6144), (3072, 768)];
long bytes = 0;
for (int l = 0; l < 12; l++)
    for (int s = 0; s < 4; s++)
    {
        var (K, N) = shapes[s];
        var w = new float[K * N];
        for (int i = 0; i < w.Length; i++) w[i] = (float)(rng.NextDouble() * 2 - 1) * 0.05f;
        var t = new TensorProto { Name = $"W{l}_{s}", DataType = (int)TensorProto.Types.DataType.Float, RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(w.AsSpan())) };
        t.Dims.Add(K); t.Dims.Add(N);
        g.Initializer.Add(t);
        bytes += (long)K * N * 4;
        var node = new NodeProto { OpType = "MatMul", Name = $"mm{l}_{s}" };
        node.Input.Add(K == 768 ? "A" : "A3"); node.Input.Add(t.Name); node.Output.Add($"Y{l}_{s}");
        g.Node.Add(node);
        g.Output.Add(VI($"Y{l}_{s}", -1, N));
    }
g.Input.Add(VI("A", -1, 768)); g.Input.Add(VI("A3", -1, 3072));
model.Graph = g;
byte[] proto = model.ToByteArray();
InferenceSession Open(bool ours)
{
    var so = new SessionOptions { IntraOpNumThreads = threads, ExecutionMode = ExecutionMode.ORT_SEQUENTIAL };
    so.AddSessionConfigEntry("session.intra_op.allow_spinning", spin);
    so.AddSessionConfigEntry("session.force_spinning_stop", spin);
    if (ours) MatMulOperator.Register(so);
    return new InferenceSession(proto, so);
}
using var mlas = Open(false);
using var ours = Open(true);
MatMulOperator.InPlace = true;
using var inplace = Open(true);
InferenceSession OpenProduct()
{
    // What the engine opens: the model rewritten to PackedMatMul over weights packed at load.
    var so = new SessionOptions { IntraOpNumThreads = threads, ExecutionMode = ExecutionMode.ORT_SEQUENTIAL };
    so.AddSessionConfigEntry("session.intra_op.allow_spinning", spin);
    so.AddSessionConfigEntry("session.force_spinning_stop", spin);
    LlmAspireKernels.Register(so);
    byte[] rewritten = PackedMatMulRewriter.TryRewrite(ModelProto.Parser.ParseFrom(proto), out PackedWeights? packed)!;
    using (packed)
    {
        packed!.AddTo(so);
        return new InferenceSession(rewritten, so);
    }
}

using var product = OpenProduct();
using var pool = new KernelThreadPool(threads - 1);
Console.WriteLine($"{bytes / 1e6:F0} MB of weights, {threads} threads, spin {spin}; speed relative to MLAS");
foreach (int M in Ms)
{
    var a = new float[M * 768]; var a3 = new float[M * 3072];
    for (int i = 0; i < a.Length; i++) a[i] = (float)(rng.NextDouble() * 2 - 1);
    for (int i = 0; i < a3.Length; i++) a3[i] = (float)(rng.NextDouble() * 2 - 1);
    using var ia = OrtValue.CreateTensorValueFromMemory(a, new long[] { M, 768 });
    using var ia3 = OrtValue.CreateTensorValueFromMemory(a3, new long[] { M, 3072 });
    string[] outNames = g.Output.Select(o => o.Name).ToArray();
    // MLAS; the third pass's packed kernel (no prefetch); the weight read in place, with prefetch; the engine's kernel.
    (string Name, InferenceSession Session)[] setups = [("MLAS", mlas), ("packed", ours), ("in-place+pf", inplace), ("engine", product), ("engine+pool", product)];
    var outs = setups.Select(_ => outNames.Select((n, i) => new float[M * shapes[i % 4].N]).ToArray()).ToArray();
    var values = outs.Select(o => o.Select((x, i) => OrtValue.CreateTensorValueFromMemory(x, new long[] { M, shapes[i % 4].N })).ToArray()).ToArray();
    var times = setups.Select(_ => new List<double>()).ToArray();
    using var ro = new RunOptions();
    for (int r = 0; r < rounds + 1; r++)
    {
        int reps = Math.Max(1, 20 / Math.Max(1, M / 8));
        for (int s = 0; s < setups.Length; s++)
        {
            var sw = Stopwatch.StartNew();
            using (s == 4 ? pool.Enter() : default)
            for (int i = 0; i < reps; i++) setups[s].Session.Run(ro, ["A", "A3"], [ia, ia3], outNames, values[s]);
            if (r > 0) times[s].Add(sw.Elapsed.TotalMilliseconds / reps);
        }
    }

    double[] medians = times.Select(t => t.Order().ElementAt(t.Count / 2)).ToArray();
    string line = $"M={M,4}: MLAS {medians[0],7:F2} ms ({bytes / medians[0] / 1e6,5:F1} GB/s, {2.0 * M * bytes / 4 / medians[0] / 1e6,5:F1} GFLOP/s)";
    for (int s = 1; s < setups.Length; s++)
    {
        bool same = outs[s].Zip(outs[0]).All(p => p.First.SequenceEqual(p.Second));
        line += $"  {setups[s].Name} {medians[s],7:F2} ms ({medians[0] / medians[s]:F2}x{(same ? "" : ", outputs differ")})";
    }

    Console.WriteLine(line);
}

static ValueInfoProto VI(string name, long d0, long d1)
{
    var shape = new TensorShapeProto();
    shape.Dim.Add(d0 < 0 ? new TensorShapeProto.Types.Dimension { DimParam = "m" } : new TensorShapeProto.Types.Dimension { DimValue = d0 });
    shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d1 });
    return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } } };
}
